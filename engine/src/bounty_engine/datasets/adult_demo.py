"""The demo round on UCI Adult: its rules and its split, shared by the server's demo and by
participants' local scripts (which rebuild the public train split from the bundled data)."""

from __future__ import annotations

from bounty_engine.losses import Loss
from bounty_engine.round import RoundRules
from bounty_engine.significance import AcceptanceTest

DEMO_RULES = RoundRules(
    Loss(),
    alpha=0.001,
    min_group_rows=30,
    repair_alpha=0.0005,
    acceptance_test=AcceptanceTest.SIGNIFICANCE,
)
DEMO_SPLIT = (0.6, 0.2, 0.2)
DEMO_SEED = 0
