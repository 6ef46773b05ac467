"""Alert rules, their episodes and their delivery (docs/alerts.md)."""
