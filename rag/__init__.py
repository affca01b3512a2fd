"""Extractive, cited question answering over news articles."""

__version__ = "0.2.0"
