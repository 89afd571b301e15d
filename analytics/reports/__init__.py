"""Saved reports: definitions (analytics.reports table), exports (CSV, XLSX, PDF) built from `analytics.figures`, and
the scheduled runner `python -m analytics.reports` that mails each report once per due time."""
