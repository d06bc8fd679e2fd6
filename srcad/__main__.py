"""``python -m srcad`` and the ``srcad`` console script: see :mod:`srcad.cli`."""

import sys

from srcad.cli import main

if __name__ == "__main__":
    sys.exit(main())
