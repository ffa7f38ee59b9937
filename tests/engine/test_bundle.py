"""Loading a malformed or altered bundle gives a BundleError, never another exception."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bounty_engine.bundle import BundleError, export_bundle, load_bundle
from bounty_engine.data import prepare_features
from bounty_engine.errors import ModelLoadError
from bounty_engine.groups import RuleGroup
from bounty_engine.models import ModelFormat, load_model
from bounty_engine.pdl import PatchNode, PointerDecisionList, PointerNode
from tests.engine.tiny import FRAME, SCHEMA, constant_model


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    old = RuleGroup.parse("age >= 50", SCHEMA)
    model = PointerDecisionList(constant_model(0), SCHEMA.label)
    model.append(PatchNode("old", old, constant_model(1)))
    model.append(PatchNode("all", RuleGroup.parse("True", SCHEMA), constant_model(0)))
    model.append(PointerNode("old", old, 1))
    return export_bundle(model, SCHEMA, tmp_path / "model.zip")


def test_round_trip_with_a_pointer(bundle_path: Path) -> None:
    bundle = load_bundle(bundle_path)
    assert bundle.model.head_version == 3
    assert bundle.predict(FRAME).tolist() == [0, 0, 1, 1]
    assert bundle.predict(FRAME, version=2).tolist() == [0, 0, 0, 0]
    features = prepare_features(FRAME, SCHEMA)
    np.testing.assert_array_equal(bundle.model.predict_codes(features), [0, 0, 1, 1])


def _rewrite(path: Path, change: Callable[[dict[str, Any], dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    change(manifest, files)
    out = path.with_name("altered.zip")
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def _set(**changes: Any) -> Callable[[dict[str, Any], dict[str, bytes]], None]:
    def change(manifest: dict[str, Any], _: dict[str, bytes]) -> None:
        for dotted, value in changes.items():
            target = manifest
            *parents, last = dotted.split("__")
            for part in parents:
                target = target[int(part)] if isinstance(target, list) else target[part]
            if isinstance(target, list):
                target[int(last)] = value
            else:
                target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(format="something-else"), "unknown bundle format"),
        (_set(nodes__2__target_version=7), "does not exist"),
        (_set(nodes__2__target_version="x"), "not a readable model bundle"),
        (_set(nodes__2__group={"type": "rule", "expression": "age < 50"}), "repeat its patch"),
        (_set(nodes__0__group={"type": "rule", "expression": "__import__('os')"}), "readable"),
        (_set(nodes__0__kind="mystery"), "unknown node kind"),
        (_set(nodes__0__group={"type": "mystery"}), "unknown group type"),
        (_set(base__file="../../etc/passwd"), "unexpected model file name"),
        (_set(schema={"features": "nope"}), "not a readable model bundle"),
        (_set(nodes=None), "not a readable model bundle"),
    ],
)
def test_altered_manifests_are_refused(
    bundle_path: Path, change: Callable[[dict[str, Any], dict[str, bytes]], None], message: str
) -> None:
    with pytest.raises(BundleError, match=message):
        load_bundle(_rewrite(bundle_path, change))


def test_corrupted_model_fails_its_checksum(bundle_path: Path) -> None:
    def corrupt(_: dict[str, Any], files: dict[str, bytes]) -> None:
        name = next(iter(files))
        files[name] = files[name][:-4] + b"oops"

    with pytest.raises(BundleError, match="checksum mismatch"):
        load_bundle(_rewrite(bundle_path, corrupt))


def test_a_manifest_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", "[1, 2, 3]")
    with pytest.raises(BundleError, match="not a readable model bundle"):
        load_bundle(path)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.zip"
    path.write_text("hello")
    with pytest.raises(BundleError, match="not a readable model bundle"):
        load_bundle(path)


def test_a_bundle_loads_as_a_model_that_predicts_its_head(bundle_path: Path) -> None:
    """A follow-up round's base model is the earlier round's bundle (docs/populations.md)."""
    loaded = load_model(bundle_path, feature_names=SCHEMA.feature_names)
    assert loaded.format is ModelFormat.BUNDLE
    features = prepare_features(FRAME, SCHEMA)
    assert loaded.predict(features).tolist() == load_bundle(bundle_path).predict(FRAME).tolist()


def test_a_bundle_for_other_columns_or_with_a_pickle_inside_is_refused_as_a_model(
    bundle_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelLoadError, match="columns this round does not have"):
        load_model(bundle_path, feature_names=["age"])

    def pickled(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
        entry = manifest["base"]
        payload = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."  # pickle of 1
        del files[entry["file"]]
        entry["sha256"] = hashlib.sha256(payload).hexdigest()
        entry["file"] = f"models/{entry['sha256']}.{entry['format']}"
        files[entry["file"]] = payload

    with pytest.raises(ModelLoadError, match="pickle"):
        load_model(_rewrite(bundle_path, pickled))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("manifest.json", "{not json")
    with pytest.raises(ModelLoadError, match="bundle cannot be loaded"):
        load_model(broken)
