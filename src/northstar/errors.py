"""Every error a Northstar user can see.

    NorthstarError                 base: a one-line message for the user, exit code 1
    ├── WorkspaceError             no workspace here, already exists, newer than this version
    ├── SettingsError              northstar.yaml is unreadable or a setting is invalid
    ├── UnknownTableError          a table name that is not in the data model
    ├── ImportFileError            a file that cannot be read, or columns that cannot be mapped
    ├── StoreBusyError             the store is opened for writing by another process
    └── QueryError                 a read-only SQL statement that failed or tried to write

The CLI prints ``str(error)`` on one line of stderr and exits non-zero; it never shows a
traceback for these. Anything else escaping is a bug.
"""

from __future__ import annotations


class NorthstarError(Exception):
    """Base of every user-facing error: the message says what is wrong and how to fix it."""

    exit_code = 1


class WorkspaceError(NorthstarError):
    """The workspace folder is missing, not a workspace, or from a newer Northstar."""


class SettingsError(NorthstarError):
    """``northstar.yaml`` cannot be read or holds an invalid setting."""


class UnknownTableError(NorthstarError):
    """A table name that is not part of the data model."""


class ImportFileError(NorthstarError):
    """An import file cannot be read, or its columns do not fit the table."""


class StoreBusyError(NorthstarError):
    """Another process holds the workspace store open for writing."""


class QueryError(NorthstarError):
    """A user-supplied read-only query failed."""


__all__ = [
    "ImportFileError",
    "NorthstarError",
    "QueryError",
    "SettingsError",
    "StoreBusyError",
    "UnknownTableError",
    "WorkspaceError",
]
