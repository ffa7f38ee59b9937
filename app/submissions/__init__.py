"""Submissions of pairs (g, h): upload, validation, quotas, status."""
