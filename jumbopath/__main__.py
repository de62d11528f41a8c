"""``python -m jumbopath``."""

from jumbopath.cli import main

if __name__ == "__main__":
    main()
