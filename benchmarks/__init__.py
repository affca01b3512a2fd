"""Retrieval benchmarks of the rag pipeline on public data sets (SQuAD ReQA, BEIR SciFact)."""
