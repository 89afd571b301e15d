"""Linear, small revisions: 0001, 0002, ... (append new ones at the end)."""
