"""Benchmark metrics: totals, turnover, Taylor statistics, scores."""
