"""Presentation shared by every output (web pages, reports, e-mails): charts and colours."""
