"""Fitted models shipped with the package (see benchmarks/fit_ranker.py)."""
