"""``python -m aoinspect`` behaves exactly like the ``aoinspect`` console script."""

from aoinspect.cli import main

if __name__ == "__main__":
    main()
