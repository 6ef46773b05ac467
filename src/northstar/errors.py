"""Every error a Northstar user can see.

    NorthstarError                 base: a one-line message for the user, exit code 1
    ├── WorkspaceError             no workspace here, already exists, newer than this version
    ├── SettingsError              northstar.yaml is unreadable or a setting is invalid
    ├── UnknownTableError          a table name that is not in the data model
    ├── ImportFileError            a file that cannot be read, or columns that cannot be mapped
    ├── StoreBusyError             the store stayed in use by another process past the wait
    ├── ApiKeyError                an API key id that does not exist, a bad kind or source
    ├── ServerError                the tracking server cannot start (port taken, already running)
    ├── AccessError                a read API call without a read/admin key, a page from afar
    │   └── SignInRequired         a page asked for without signing in (server.pages: key)
    ├── QueryError                 a read-only SQL statement that failed or tried to write
    ├── MetricError                a metric query that cannot be answered
    │   ├── UnknownMetricError     a metric id that is neither built in nor declared in YAML
    │   ├── MetricDefinitionError  a custom metric in metrics/*.yaml is invalid (file, id, why)
    │   ├── FilterError            a --where filter or --by dimension that cannot be used
    │   └── QueryArgumentError     a bad grain, date range or comparison
    ├── GoalError                  an objective or goal that is unknown or given bad values
    │   └── GoalFileError          goals.yaml is unreadable or holds an invalid entry
    ├── ExperimentError            an experiment, metric or statistics file that cannot work
    │   └── ExperimentNotFound     no exposures for that experiment (lists those there are)
    ├── ExplainError               a change that cannot be explained as asked (window, depth)
    ├── AnomalyError               a series or anomaly option that cannot be read
    └── AlertConfigError           alerts.yaml is unreadable or holds an invalid rule or channel

The CLI prints ``str(error)`` on one line of stderr and exits non-zero; it never shows a
traceback for these. Anything else escaping is a bug.
"""

from __future__ import annotations


class NorthstarError(Exception):
    """Base of every user-facing error: the message says what is wrong and how to fix it."""

    exit_code = 1
    http_status = 400  # what the web and the read API answer with


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


class ApiKeyError(NorthstarError):
    """An API key that does not exist, or a key kind or source that is not allowed."""


class ServerError(NorthstarError):
    """The tracking server cannot start: its port is taken or it already runs here."""


class AccessError(NorthstarError):
    """A read API call without a usable read or admin key, or a web page asked for from
    outside the loopback interface; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


class SignInRequired(AccessError):
    """A web page asked for without a signed-in key (``server.pages: key``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 401)


class QueryError(NorthstarError):
    """A user-supplied read-only query failed."""


class MetricError(NorthstarError):
    """A metric query that cannot be answered as asked."""


class UnknownMetricError(MetricError):
    """A metric id that is neither built in nor declared in the workspace's YAML."""


class MetricDefinitionError(MetricError):
    """A custom metric definition is invalid; the message names the file and the metric."""


class FilterError(MetricError):
    """A filter expression or breakdown dimension that cannot be parsed or resolved."""


class QueryArgumentError(MetricError):
    """A bad grain, date range, comparison or output format."""


class GoalError(NorthstarError):
    """An objective or goal that does not exist, or a goal given values that cannot work."""


class GoalNotFound(GoalError):
    """No objective or goal with that id (the message lists the ids there are)."""

    http_status = 404


class GoalFileError(GoalError):
    """``goals.yaml`` cannot be read or holds an invalid entry; the message names it."""


class ExperimentError(NorthstarError):
    """An experiment analysis asked with a metric, arm or statistics file that cannot work."""


class ExperimentNotFound(ExperimentError):
    """No exposures recorded for that experiment (the message lists the ones there are)."""

    http_status = 404


class ExplainError(NorthstarError):
    """``northstar explain`` asked with a window, comparison or depth that cannot work."""


class AnomalyError(NorthstarError):
    """A series file, direction or format that ``northstar anomalies`` cannot use."""


class AlertConfigError(NorthstarError):
    """``alerts.yaml`` cannot be read or holds an invalid rule or channel (named)."""


class ReportConfigError(NorthstarError):
    """``reports.yaml`` cannot be read or holds an invalid report (named)."""


class ReportNotFound(ReportConfigError):
    """No report of that name in ``reports.yaml`` (the message lists the ones there are)."""

    http_status = 404


class ReportError(NorthstarError):
    """A report that cannot be built or rendered as asked (format, output, as-of)."""


class ShareError(NorthstarError):
    """A share link asked for a page that cannot be shared, or a duration that is wrong."""


class ShareNotFound(ShareError):
    """No share link with that id (or it is expired, revoked or tampered with)."""

    http_status = 404


__all__ = [
    "AlertConfigError",
    "AnomalyError",
    "ApiKeyError",
    "ExperimentError",
    "ExperimentNotFound",
    "ExplainError",
    "FilterError",
    "GoalError",
    "GoalFileError",
    "ImportFileError",
    "MetricDefinitionError",
    "MetricError",
    "NorthstarError",
    "QueryArgumentError",
    "QueryError",
    "ReportConfigError",
    "ReportError",
    "ReportNotFound",
    "ServerError",
    "SettingsError",
    "ShareError",
    "ShareNotFound",
    "StoreBusyError",
    "UnknownMetricError",
    "UnknownTableError",
    "WorkspaceError",
]
