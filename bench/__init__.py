"""flowreg's benchmark: a synthetic registry generator and a runner (`python -m bench.run`).

Run from the repository root; bench/ is not part of the installed package.
"""
