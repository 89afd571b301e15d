"""Tests of the region-aware app against a real local PostgreSQL cluster."""
