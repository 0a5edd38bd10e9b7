"""Helpers shared by the tests: real servers and throwaway resources."""
