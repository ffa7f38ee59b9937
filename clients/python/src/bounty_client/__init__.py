"""The Python client of Bias Bounty: ``from bounty_client import BountyClient, load_bundle``."""

from bounty_client.client import BountyClient, BountyError, VerdictTimeoutError
from bounty_engine.bundle import Bundle, BundleError, load_bundle

__all__ = [
    "BountyClient",
    "BountyError",
    "Bundle",
    "BundleError",
    "VerdictTimeoutError",
    "load_bundle",
]
