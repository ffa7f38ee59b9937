"""Build a pair (g, h) on the Adult demo data and check it locally before submitting it.

Run: ``uv run python examples/check_a_pair.py [--rule EXPR] [--out h.skops]``

The check uses the same engine as the platform, with the public training split as the decision
split (the holdout is never available to participants), so a pair that fails here would almost
surely fail on the platform too. It writes h as a skops file ready to upload.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bounty_engine.baseline import train_default_model, train_patch_model
from bounty_engine.data import infer_schema, prepare_features, split_frame
from bounty_engine.datasets.adult import ADULT_LABEL, load_adult
from bounty_engine.datasets.adult_demo import DEMO_RULES, DEMO_SEED, DEMO_SPLIT
from bounty_engine.decision import Decision
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import BountyRound, Submission


def check_pair(rule: str, out: Path) -> Decision:
    """Train h for ``rule`` on the training split, save it to ``out`` and check the pair."""
    frame = load_adult()
    schema = infer_schema(frame, ADULT_LABEL)
    train = split_frame(frame, DEMO_SPLIT, seed=DEMO_SEED).train
    group = RuleGroup.parse(rule, schema)
    h = train_patch_model(train, schema, group.mask(prepare_features(train, schema)))
    out.write_bytes(dump_sklearn_model(h))
    base = load_model(dump_sklearn_model(train_default_model(train, schema)))
    local = BountyRound(schema, DEMO_RULES, base, {"train": train}, decision_split="train")
    return local.submit(Submission("local-check", group, load_model(out)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rule", default='marital_status == "Married-civ-spouse"')
    parser.add_argument("--out", type=Path, default=Path("h.skops"))
    args = parser.parse_args()
    decision = check_pair(args.rule, args.out)
    stats = decision.stats["train"]
    print(f"group: {args.rule}  ({stats.n_group} training rows)")
    print(f"verdict on the training split: {decision.outcome.value} ({decision.reason.value})")
    print(f"group error: {stats.group_loss_before:.4f} -> {stats.group_loss_after:.4f}")
    print(f"score: {stats.score:.5f}; h saved to {args.out}")


if __name__ == "__main__":
    main()
