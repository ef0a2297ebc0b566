"""``python -m dersonlake`` is the same as the ``derson-lake`` command."""

from dersonlake.cli.main import main

if __name__ == "__main__":
    main()
