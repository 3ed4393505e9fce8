"""Evaluation: the mapping catalog, the condition language and findings per resource."""
