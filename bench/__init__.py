"""Benchmark data and query plans (see bench/generate.py and bench/explain.py)."""
