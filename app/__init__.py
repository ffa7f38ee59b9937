"""Bias Bounty: an open platform for running algorithmic bias bounties."""

__version__ = "0.1.0"
