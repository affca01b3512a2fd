"""HTTP front of the question-answering service."""
