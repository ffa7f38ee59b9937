"""The sandboxed child: runs a pair (g, h) on feature files and writes encoded outputs.

Forked by ``app.worker.sandbox`` from its fork server, under resource limits, with a scrubbed
``os.environ`` and the job directory as its working directory. It reads ``job.json`` and
``features-<split>.parquet`` (features only: it never sees labels), loads models only through
the engine's safe loaders, and writes ``outputs.npz`` (``mask-<split>``, ``pred-<split>``) or
``error.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.engine.errors import EngineError
from app.engine.groups import Group, ModelGroup, RuleGroup
from app.engine.models import load_model
from app.engine.round import run_pair
from app.engine.schema import FeatureSchema


def _group(job: dict[str, Any], job_dir: Path, schema: FeatureSchema) -> Group:
    if job["group"]["type"] == "rule":
        return RuleGroup.parse(job["group"]["expression"], schema)
    return ModelGroup(load_model(job_dir / job["group"]["file"]))


def run(job_dir: Path) -> None:
    """Evaluate the job in ``job_dir``; engine errors are written as the job's error, with
    the upload field they are about (``group_model`` or ``model``)."""
    job = json.loads((job_dir / "job.json").read_text())
    schema = FeatureSchema.model_validate(job["schema"])
    field = "group_model"
    group: Group | None = None
    try:
        group = _group(job, job_dir, schema)
        field = "model"
        model = load_model(job_dir / job["model"])
        arrays: dict[str, np.ndarray] = {}
        for split in job["splits"]:
            features = pd.read_parquet(job_dir / f"features-{split}.parquet")
            out = run_pair(group, model, features, schema.label)
            arrays[f"mask-{split}"] = out.mask
            arrays[f"pred-{split}"] = out.predictions
    except EngineError as exc:
        if isinstance(group, ModelGroup) and "group" in str(exc):
            field = "group_model"  # the group model's output was unusable
        error = {"message": str(exc), "code": exc.code, "field": field}
        (job_dir / "error.json").write_text(json.dumps(error))
        return
    save: Any = np.savez  # numpy's stub does not type array keyword arguments
    save(job_dir / "outputs.npz", **arrays)


if __name__ == "__main__":
    run(Path(sys.argv[1]))
