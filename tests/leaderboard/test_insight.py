"""Insight views: the model's history, the accepted groups, feature usage, and the export of
the model, on a round whose second accepted pair forces a repair."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.storage import ArtifactStore
from app.rounds.disclosure import round_to_step, step_at_least
from app.rounds.engine_view import load_split
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.worker.runner import Worker
from bounty_engine.bundle import load_bundle
from bounty_engine.data import prepare_features
from bounty_engine.groups import ModelGroup
from bounty_engine.pdl import PatchNode, PointerNode
from tests.leaderboard.conftest import api, group_model, rival, saboteur
from tests.submissions.conftest import Arena, drain
from tests.support.rounds import LABEL


def test_feature_usage_counts_rule_groups_per_team_and_feature(arena: Arena) -> None:
    bob = rival(arena, "bob@example.org", "Rivals")
    rival(arena, "cat@example.org", "Idle")
    model = arena.patch_model("x0 > 0")
    pairs = [
        ('x0 > 0 and c0 == "a"', None, None),
        ('c0 == "a" and x0 > 0', None, None),
        ("x0 > 1 or x2 < 0", None, None),
        (None, group_model(arena, arena.planted[2]), None),
        ('c1 in ("a", "b") and not c1 == "c"', None, bob),
    ]
    for expression, g, who in pairs:
        response = arena.submit(expression, model, who=who, group_model=g)
        assert response.status_code == 202, response.text

    usage = api(arena, "feature-usage")
    assert usage["features"] == ["x0", "x1", "x2", "x3", "c0", "c1"]
    rows = [(t["team"], t["rule_groups"], t["model_groups"], t["counts"]) for t in usage["teams"]]
    assert rows == [
        ("Idle", 0, 0, [0, 0, 0, 0, 0, 0]),
        ("Rivals", 1, 0, [0, 0, 0, 0, 0, 1]),
        ("Sleuths", 3, 1, [3, 0, 1, 0, 2, 0]),
    ]
    assert usage["totals"] == [3, 0, 1, 0, 2, 1]


def test_history_groups_and_export_follow_the_model(
    arena: Arena, worker: Worker, db: Session, tmp_path: Path
) -> None:
    p0, p1, p2 = arena.planted
    bob = rival(arena, "bob@example.org", "Rivals")
    # The second pair is right on p1 but wrong on part of p0: accepting it breaks p0's group,
    # which a pointer node back to version 1 repairs.
    harmed = f"{p0} and x0 > 0.5"
    second = f"({p1}) or ({harmed})"
    responses = [
        arena.submit(p0, arena.patch_model(p0)),
        arena.submit(second, saboteur(arena, p1, harmed)),
        arena.submit(None, arena.patch_model(p2), who=bob, group_model=group_model(arena, p2)),
    ]
    assert [r.status_code for r in responses] == [202, 202, 202]
    drain(worker)
    db.expire_all()
    s1, s2, s3 = db.scalars(select(Submission).order_by(Submission.id)).all()
    assert [s.outcome for s in (s1, s2, s3)] == ["accepted"] * 3

    history = api(arena, "history")
    nodes = [
        (v["version"], v["kind"], v["submission_id"], v["team"], v["target_version"])
        for v in history["versions"]
    ]
    assert nodes == [
        (0, "base", None, None, None),
        (1, "patch", s1.id, "Sleuths", None),
        (2, "patch", s2.id, "Sleuths", None),
        (3, "pointer", s1.id, "Sleuths", 1),
        (4, "patch", s3.id, "Rivals", None),
    ]
    stored = db.scalars(select(ModelVersion).order_by(ModelVersion.version)).all()
    losses = [v["holdout_loss"] for v in history["versions"]]
    n_holdout = arena.client.get(f"/api/v1/rounds/{arena.slug}").json()["data"]["n_holdout"]
    mean_step = step_at_least(1 / (2 * math.sqrt(n_holdout)))  # the rounded disclosure's
    assert losses == [round_to_step(v.holdout_loss, mean_step) for v in stored]
    assert [v["train_loss"] for v in history["versions"]] == [v.train_loss for v in stored]
    exact = [v["holdout_loss"] for v in api(arena, "history", arena.organizer)["versions"]]
    assert exact == [v.holdout_loss for v in stored]
    assert all(a > b for a, b in itertools.pairwise(exact))  # every step improves

    groups = api(arena, "groups")["groups"]
    assert [
        (g["submission_id"], g["team"], g["group"], g["group_kind"], g["version"], g["repairs"])
        for g in groups
    ] == [
        (s1.id, "Sleuths", p0, "rule", 1, []),
        (
            s2.id,
            "Sleuths",
            second,
            "rule",
            2,
            [{"version": 3, "submission_id": s1.id, "target_version": 1}],
        ),
        (s3.id, "Rivals", "group model", "model", 4, []),
    ]
    for g, sub in zip(groups, (s1, s2, s3), strict=True):
        stats = (sub.verdict or {})["stats"]["holdout"]
        n_group = stats["n_group"]
        assert n_group > 0
        assert g["n_group"] == round_to_step(n_group, step_at_least(math.sqrt(n_group) / 2))
        loss_step = step_at_least(1 / (2 * math.sqrt(n_group)))
        assert g["group_loss_before"] == round_to_step(stats["group_loss_before"], loss_step)
        assert g["group_loss_after"] == round_to_step(stats["group_loss_after"], loss_step)

    # The exported bundle predicts what the worker's replayed model predicts.
    response = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/export", headers=arena.organizer.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="{arena.slug}-v4.zip"' in response.headers["content-disposition"]
    path = tmp_path / "model.zip"
    path.write_bytes(response.content)
    bundle = load_bundle(path)
    assert bundle.metadata["version"] == bundle.model.head_version == 4
    assert [(type(n), n.key) for n in bundle.model.nodes] == [
        (PatchNode, str(s1.id)),
        (PatchNode, str(s2.id)),
        (PointerNode, str(s1.id)),
        (PatchNode, str(s3.id)),
    ]
    assert isinstance(bundle.model.nodes[3].group, ModelGroup)
    round_ = db.scalar(select(Round).where(Round.slug == arena.slug))
    assert round_ is not None
    holdout = load_split(_store(arena), round_, "holdout")
    np.testing.assert_array_equal(
        bundle.model.predict_codes(prepare_features(holdout, bundle.schema)),
        worker.cache.state(db, round_).evaluator.head_predictions("holdout"),
    )
    errors = bundle.predict(holdout) != holdout[LABEL].to_numpy()
    assert float(np.mean(errors)) == stored[-1].holdout_loss


def _store(arena: Arena) -> ArtifactStore:
    store: ArtifactStore = arena.client.app.state.store  # type: ignore[attr-defined]
    return store
