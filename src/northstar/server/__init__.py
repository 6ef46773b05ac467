"""The workspace's server: tracking API, health (and later the web UI and read API).

Modules: ``app`` (factory, ``serve``), ``routes`` (endpoints), ``body`` (limits),
``auth`` (keys as SDKs send them), ``log`` (durable ingestion log, group commit),
``flusher`` (log → store), ``state``, ``openapi``. See docs/ingestion-server.md.
"""
