"""``python -m r2async``: the same command as the ``r2async`` console script."""

from r2async.cli import console_main

if __name__ == "__main__":
    console_main()
