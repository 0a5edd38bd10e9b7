"""Benchmarks: how fast onboarding is, against the limits that bind it (`make bench`).

Each module measures one figure (or a few) and returns `Figure`s; `python -m bench` runs them
all, prints one table (figure, measured, target, pass) and writes the numbers behind it to
`.data/bench/`. Nothing here is a test: the targets are checked, reported, never asserted.
"""
