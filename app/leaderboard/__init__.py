"""Leaderboard and insight: rankings, model history, feature usage, reports."""
