"""Benchmarks (`make bench`, `make bench-smoke`): every figure is a ratio against a baseline from the same run."""
