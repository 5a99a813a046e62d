"""`python -m lineage.cli`: the same as the `flowreg` console script."""

from lineage.cli import main

if __name__ == "__main__":
    main()
