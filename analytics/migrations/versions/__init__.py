"""Linear, small revisions of the analytics database: 0001, 0002, ... (append new ones at the end)."""
