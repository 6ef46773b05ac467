"""The metric layer: specs (built-in catalog and YAML) → Ibis expressions → tidy series."""

from northstar.metrics.query import QueryRequest, QueryResult, run_query
from northstar.metrics.registry import Registry
from northstar.metrics.spec import MetricSpec

__all__ = ["MetricSpec", "QueryRequest", "QueryResult", "Registry", "run_query"]
