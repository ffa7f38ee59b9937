"""Loading scikit-learn models from skops files, after checking every type and attribute."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd
import skops.io as sio

from bounty_engine.errors import ModelLoadError
from bounty_engine.models.allowed_types import type_problem
from bounty_engine.models.bounds_checks import check_index_structures
from bounty_engine.models.messages import describe_exception, failures_as, name_list
from bounty_engine.models.skops_archive import open_skops_archive

_SKOPS_FAILURE = "the skops file cannot be loaded"


def dump_sklearn_model(model: object) -> bytes:
    """Serialize a scikit-learn model in the skops format (for our own code, tests and SDK)."""
    data: bytes = sio.dumps(model)
    return data


def load_skops(
    data: bytes, feature_names: Sequence[str] | None
) -> Callable[[pd.DataFrame], object]:
    """The ``predict`` method of the model in a skops file; ``ModelLoadError`` if unsafe."""
    schema = _read_schema(open_skops_archive(data))
    _refuse_dunder_attributes(schema)
    with failures_as(ModelLoadError, _SKOPS_FAILURE):
        untrusted = set(sio.get_untrusted_types(data=data))
    problems = {
        name: reason
        for name in sorted(untrusted | _type_names(schema))
        if (reason := type_problem(name, trusted_by_skops=name not in untrusted))
    }
    if problems:
        listed = "; ".join(f"{name!r} ({reason})" for name, reason in problems.items())
        raise ModelLoadError(f"the model file uses types that are not allowed: {listed}")
    with failures_as(ModelLoadError, _SKOPS_FAILURE):
        model = sio.load(io.BytesIO(data), trusted=sorted(untrusted))
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise ModelLoadError(
            f"the model ({type(model).__name__}) has no predict method; upload a fitted "
            "estimator or Pipeline"
        )
    check_index_structures(model)
    if feature_names is not None:
        _check_sklearn_columns(model, feature_names)
    _run_single_process(model)
    return predict  # type: ignore[no-any-return]


def _read_schema(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        schema = json.loads(archive.read("schema.json"))
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, RecursionError) as exc:
        raise ModelLoadError(
            f"the skops file's schema.json is unreadable: {describe_exception(exc)}"
        ) from exc
    if not isinstance(schema, dict):
        raise ModelLoadError("the skops file's schema.json does not describe an object")
    return schema


def _walk_json(root: object) -> Iterator[object]:
    """Every dict, list and scalar in a parsed JSON document (iteratively: files may nest)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _type_names(schema: dict[str, Any]) -> set[str]:
    """Every ``module.name`` the file refers to, including types skops trusts by default."""
    return {
        f"{node['__module__']}.{node['__class__']}"
        for node in _walk_json(schema)
        if isinstance(node, dict)
        and isinstance(node.get("__module__"), str)
        and isinstance(node.get("__class__"), str)
    }


def _refuse_dunder_attributes(schema: dict[str, Any]) -> None:
    """Refuse objects whose saved state sets ``__dunder__`` attributes.

    skops restores an object's ``__dict__`` from the file. An instance attribute such as
    ``__array_interface__`` would make numpy read memory at an address the file chooses.
    """
    found: set[str] = set()
    for node in _walk_json(schema):
        if not isinstance(node, dict):
            continue
        content = node.get("content")
        if node.get("__loader__") == "DictNode" and isinstance(content, dict):
            found.update(key for key in content if _is_dunder(key))
        elif node.get("__loader__") == "JsonNode" and isinstance(content, str):
            found.update(_dunder_keys_in_json(content))
    if found:
        names = ", ".join(repr(key) for key in sorted(found))
        raise ModelLoadError(
            f"the model file sets special attributes, which is not allowed: {names}"
        )


def _dunder_keys_in_json(text: str) -> set[str]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return set()  # skops refuses it later
    return {
        key
        for node in _walk_json(value)
        if isinstance(node, dict)
        for key in node
        if _is_dunder(key)
    }


def _is_dunder(key: object) -> bool:
    return isinstance(key, str) and len(key) > 4 and key.startswith("__") and key.endswith("__")


def _check_sklearn_columns(model: object, feature_names: Sequence[str]) -> None:
    trained_on = getattr(model, "feature_names_in_", None)
    if trained_on is None:
        return
    unknown = [str(name) for name in trained_on if name not in set(feature_names)]
    if unknown:
        raise ModelLoadError(
            f"the model was trained on columns that the round does not have: "
            f"{name_list(unknown)}; the round's feature columns are {name_list(feature_names)}"
        )


def _run_single_process(model: object) -> None:
    """Set every ``n_jobs`` parameter to None, so that predicting never starts processes."""
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return
    with failures_as(ModelLoadError, "the model's parameters cannot be read"):
        params = get_params(deep=True)
        updates = {
            key: None
            for key, value in params.items()
            if (key == "n_jobs" or key.endswith("__n_jobs")) and value is not None
        }
        if updates:
            model.set_params(**updates)  # type: ignore[attr-defined]
