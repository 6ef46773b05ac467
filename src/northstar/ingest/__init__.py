"""Ingestion: files (and later HTTP payloads) validated into rows of the data model."""

from northstar.ingest.importer import (
    ImportSummary,
    import_files,
    import_table,
    parse_mapping,
    rejected_rows,
)

__all__ = ["ImportSummary", "import_files", "import_table", "parse_mapping", "rejected_rows"]
