"""Helpers for the tests, the benchmarks and the screenshot script: throwaway databases, the
browser, and requests taken through the pipeline as intake does. Development only: not in
the wheel. The processes themselves start through `stack`, as `make up` starts them."""
