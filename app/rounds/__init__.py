"""Rounds: settings, data, base model, lifecycle, model versions."""
