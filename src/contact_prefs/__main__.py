"""``python -m contact_prefs``: the command line (see :mod:`contact_prefs.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":  # pytest imports this module to collect doctests
    sys.exit(main())
