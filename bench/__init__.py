"""ledgerdesk benchmarks: each figure is printed with its ratio to a raw baseline.

`python -m bench` runs them all; `python -m bench NAME ...` runs some (`--help` lists them).
They only print: nothing here asserts a timing.
"""
