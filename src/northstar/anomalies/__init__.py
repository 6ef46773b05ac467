"""Watch the KPIs: a causal anomaly detector and its series (docs/alerts.md)."""
