"""Every file of the hostile model corpus (``tests/hostile/``), uploaded as h and as a group
model: a 422 with a clear reason, no quota used, nothing stored, and the platform unharmed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain

CORPUS = Path(__file__).parents[1] / "hostile"
MANIFEST: list[dict[str, Any]] = tomllib.loads((CORPUS / "models.toml").read_text())["file"]


def test_the_manifest_lists_every_file_of_the_corpus() -> None:
    assert sorted(f["name"] for f in MANIFEST) == sorted(
        p.name for p in (CORPUS / "models").iterdir()
    )


@pytest.mark.parametrize("entry", MANIFEST, ids=[f["name"] for f in MANIFEST])
def test_a_hostile_model_file_is_refused_with_its_reason(
    arena: Arena, entry: dict[str, Any]
) -> None:
    data = (CORPUS / "models" / entry["name"]).read_bytes()
    store = arena.client.app.state.store  # type: ignore[attr-defined]
    stored_before = set(store.digests())
    quota = f"/api/v1/rounds/{arena.slug}/quota"
    left = arena.client.get(quota, headers=arena.member.headers).json()["remaining"]

    as_h = arena.submit("x0 > 0", data)
    as_group = arena.submit(None, arena.patch_model("x0 > 0"), group_model=data)
    for response, field in ((as_h, "model"), (as_group, "group_model")):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert entry["refusal"] in problem["detail"], problem
        assert problem["errors"][0]["field"] == field
    assert set(store.digests()) == stored_before  # nothing of it was kept
    assert arena.client.get(quota, headers=arena.member.headers).json()["remaining"] == left


def test_after_every_hostile_file_the_platform_still_takes_and_decides_a_good_pair(
    arena: Arena, worker: Worker
) -> None:
    h = arena.patch_model("x0 > 0")
    for entry in MANIFEST:
        data = (CORPUS / "models" / entry["name"]).read_bytes()
        assert arena.submit("x0 > 0", data).status_code == 422
        refused = arena.submit(None, h, group_model=data)
        assert refused.status_code == 422
    good = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    assert good.status_code == 202, good.text
    assert drain(worker) == 1
    decided = arena.client.get(good.json()["submission"]["url"], headers=arena.member.headers)
    assert decided.json()["verdict"]["outcome"] == "accepted"
