"""A participant's script with the SDK: download the data, build a pair, check it locally,
submit it, and wait for the verdict.

Run: ``BOUNTY_SERVER=http://127.0.0.1:8000 BOUNTY_API_KEY=bbk_... uv run python
examples/sdk_participant.py``
"""

from __future__ import annotations

import os

from bounty_client import BountyClient
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup

SLUG, RULE = "adult-income-demo", "capital_gain > 0"

with BountyClient(os.environ["BOUNTY_SERVER"], api_key=os.environ["BOUNTY_API_KEY"]) as client:
    schema, train = client.schema(SLUG), client.train_data(SLUG)
    mask = RuleGroup.parse(RULE, schema).mask(prepare_features(train, schema))
    h = train_patch_model(
        train, schema, mask
    )  # any scikit-learn model; the SDK saves it with skops
    local = client.check(SLUG, h, group=RULE, train=train)
    print("local check:", local.decision.outcome.value, local.decision.message)
    if local.decision.accepted:
        sent = client.submit(SLUG, h, group=RULE, note="from the SDK example")
        print("quota left today:", sent.quota.remaining)
        decided = client.wait(sent.submission.id, timeout=300)
        verdict = decided.verdict
        print("verdict:", verdict.outcome if verdict else decided.status)
    print("leaderboard:", [(e.team, e.improvement) for e in client.leaderboard(SLUG).entries])
