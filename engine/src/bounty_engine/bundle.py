"""Export a round's model as a self-contained bundle, and load it back without the server.

A bundle is a zip archive: ``manifest.json`` (the schema, the nodes in version order, group
expressions, sha256 checksums) and ``models/<sha256>.<format>`` for the base model, every patch
model and every group model. Checksums catch corruption, not forgery (anyone can rewrite the
manifest): safety rests on loading every model through the same safe loaders as uploads, and
every expression through the same parser.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_engine.data import prepare_features
from bounty_engine.errors import EngineError, ModelLoadError
from bounty_engine.groups import Group, ModelGroup, RuleGroup
from bounty_engine.models import LoadedModel, load_model
from bounty_engine.pdl import Node, PatchNode, PointerDecisionList, PointerNode
from bounty_engine.schema import FeatureSchema

BUNDLE_FORMAT = "bias-bounty-pdl"
BUNDLE_VERSION = 1


MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MODEL_BYTES = 512 * 1024 * 1024


class BundleError(EngineError):
    """A bundle is malformed, corrupted, or of an unknown format."""

    code = "invalid_bundle"


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle: the feature schema, the model, and the exporter's metadata."""

    schema: FeatureSchema
    model: PointerDecisionList
    metadata: dict[str, Any]

    def predict(self, frame: pd.DataFrame, version: int | None = None) -> npt.NDArray[np.generic]:
        """Predict labels for raw rows (extra columns such as the label are ignored)."""
        return self.model.predict(prepare_features(frame, self.schema), version)


def export_bundle(
    model: PointerDecisionList,
    schema: FeatureSchema,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a bundle zip at ``path``."""
    files: dict[str, bytes] = {}

    def store(m: LoadedModel) -> dict[str, str]:
        name = f"models/{m.sha256}.{m.format.value}"
        files[name] = m.data
        return {"file": name, "sha256": m.sha256, "format": m.format.value}

    def group_entry(group: Group) -> dict[str, Any]:
        if isinstance(group, RuleGroup):
            return {"type": "rule", "expression": group.rule.text}
        return {"type": "model", **store(group.model)}

    nodes: list[dict[str, Any]] = []
    for version, node in enumerate(model.nodes, start=1):
        entry: dict[str, Any] = {
            "version": version,
            "key": node.key,
            "group": group_entry(node.group),
        }
        if isinstance(node, PatchNode):
            entry |= {"kind": "patch", "model": store(node.model)}
        else:
            entry |= {"kind": "pointer", "target_version": node.target_version}
        nodes.append(entry)
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "schema": schema.model_dump(mode="json"),
        "base": store(model.base),
        "nodes": nodes,
        "metadata": metadata or {},
    }
    out = Path(path)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    return out


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Load a bundle written by ``export_bundle``; BundleError if it is malformed or altered."""
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(_read(zf, "manifest.json", MAX_MANIFEST_BYTES))
            return _build(manifest, zf)
    except BundleError:
        raise
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise BundleError(f"not a readable model bundle: {exc}") from exc


def bundle_runner(
    data: bytes, feature_names: Sequence[str] | None = None
) -> Callable[[pd.DataFrame], object]:
    """A bundle's prediction on prepared features, for ``load_model`` (a bundle as a base
    model); ``ModelLoadError`` if it is unreadable or reads columns other than
    ``feature_names``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = json.loads(_read(zf, "manifest.json", MAX_MANIFEST_BYTES))
            bundle = _build(manifest, zf)
    except ModelLoadError:
        raise
    except (BundleError, zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"this model bundle cannot be loaded: {exc}") from exc
    unknown = sorted(set(bundle.schema.feature_names) - set(feature_names or ()))
    if feature_names is not None and unknown:
        raise ModelLoadError(
            "the bundle reads columns this round does not have: " + ", ".join(unknown[:5])
        )
    return bundle.model.predict


def _read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, refusing (before decompressing) one larger than ``limit``."""
    if zf.getinfo(name).file_size > limit:
        raise BundleError(f"{name} is larger than {limit} bytes")
    return zf.read(name)


def _build(manifest: dict[str, Any], zf: zipfile.ZipFile) -> Bundle:
    if manifest.get("format") != BUNDLE_FORMAT or manifest.get("format_version") != BUNDLE_VERSION:
        raise BundleError("unknown bundle format or version")
    schema = FeatureSchema.model_validate(manifest["schema"])
    loaded: dict[str, LoadedModel] = {}

    def model_at(entry: dict[str, Any]) -> LoadedModel:
        name = entry["file"]
        if name != f"models/{entry['sha256']}.{entry['format']}":
            raise BundleError(f"unexpected model file name {name!r}")
        if name not in loaded:
            data = _read(zf, name, MAX_MODEL_BYTES)
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise BundleError(f"checksum mismatch for {name}")
            loaded[name] = load_model(data)
        return loaded[name]

    def group_of(entry: dict[str, Any]) -> Group:
        if entry["type"] == "rule":
            return RuleGroup.parse(entry["expression"], schema)
        if entry["type"] == "model":
            return ModelGroup(model_at(entry))
        raise BundleError(f"unknown group type {entry['type']!r}")

    model = PointerDecisionList(model_at(manifest["base"]), schema.label)
    patched: dict[str, tuple[dict[str, Any], Group]] = {}  # key -> its patch's group entry
    for entry in manifest["nodes"]:
        node: Node
        key = entry["key"]
        if entry["kind"] == "patch":
            node = PatchNode(key, group_of(entry["group"]), model_at(entry["model"]))
            patched[key] = (entry["group"], node.group)
        elif entry["kind"] == "pointer":
            # A pointer repeats its patch's group: share that object, so it is evaluated once.
            if key not in patched or patched[key][0] != entry["group"]:
                raise BundleError(f"pointer node {key!r} does not repeat its patch's group")
            node = PointerNode(key, patched[key][1], int(entry["target_version"]))
        else:
            raise BundleError(f"unknown node kind {entry['kind']!r}")
        model.append(node)
    return Bundle(schema, model, dict(manifest.get("metadata", {})))
