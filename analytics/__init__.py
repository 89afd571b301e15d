"""Analytics: the TimescaleDB schema (plain PostgreSQL without the extension) and the pipeline that fills it."""
