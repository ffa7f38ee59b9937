"""The Python SDK of Bias Bounty: ``from app.sdk import BountyClient``."""

from app.sdk.client import BountyClient, BountyError, VerdictTimeoutError

__all__ = ["BountyClient", "BountyError", "VerdictTimeoutError"]
