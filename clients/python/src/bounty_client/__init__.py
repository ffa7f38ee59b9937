"""The Python client of Bias Bounty: ``from bounty_client import BountyClient, load_bundle``.

Names are imported on first use (PEP 562), so that ``bounty`` commands which only talk to the
server do not load pandas, scikit-learn and the engine's model loaders.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bounty_client.client import BountyClient, BountyError, VerdictTimeoutError
    from bounty_engine.bundle import Bundle, BundleError, load_bundle

_WHERE = {
    "BountyClient": "bounty_client.client",
    "BountyError": "bounty_client.client",
    "VerdictTimeoutError": "bounty_client.client",
    "Bundle": "bounty_engine.bundle",
    "BundleError": "bounty_engine.bundle",
    "load_bundle": "bounty_engine.bundle",
}

__all__ = [
    "BountyClient",
    "BountyError",
    "Bundle",
    "BundleError",
    "VerdictTimeoutError",
    "load_bundle",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'bounty_client' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
