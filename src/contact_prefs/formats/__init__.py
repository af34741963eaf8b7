"""Files in and out: the native CSV format and OneRoster 1.1 import.

These are the shell around the core: they read and write files and build
core values (a :class:`~contact_prefs.Snapshot`); storing them is the
caller's ``store.load(...)``.  A file that breaks its format raises
:class:`FormatError`, which names the file, line, column and value.
"""

from .csv_native import read_csv, write_csv
from .errors import FormatError
from .oneroster import RosterImport, read_oneroster

__all__ = ["FormatError", "RosterImport", "read_csv", "read_oneroster", "write_csv"]
