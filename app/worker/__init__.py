"""Evaluation workers: claim jobs, run pairs in a sandbox, decide in arrival order."""
