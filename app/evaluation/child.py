"""The sandboxed child: runs a pair (g, h) on feature files and writes encoded outputs.

Forked by ``app.evaluation.sandbox`` from its fork server, under resource limits, with a scrubbed
``os.environ`` and the job directory as its working directory. It reads ``job.json`` and
``features-<split>.parquet`` (features only: it never sees labels), loads models only through
the engine's safe loaders, and writes ``outputs.npz`` (``mask-<split>``, ``pred-<split>``) or
``error.json``. It touches ``started`` before it reads anything of the pair: the parent takes
any death before that for the platform's failure (``app.evaluation.sandbox`` says whose fault
what is), and ``error.json`` has ``"platform": true`` when a shared resource of the machine ran
out under the job.
"""

from __future__ import annotations

import errno
import json
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bounty_engine.errors import EngineError
from bounty_engine.groups import Group, ModelGroup, RuleGroup
from bounty_engine.models import LoadedModel, load_model
from bounty_engine.models.messages import describe_exception
from bounty_engine.round import run_pair
from bounty_engine.schema import FeatureSchema

STARTED = "started"
"""The file the child touches once it is about to read the pair."""

_SHARED_ERRNOS = frozenset(
    {errno.EAGAIN, errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.ENOSPC, errno.EDQUOT}
)
# What the child's own address-space limit gives too (mmap: ENOMEM; a thread's stack: EAGAIN).
_LIMIT_ERRNOS = frozenset({errno.EAGAIN, errno.ENOMEM})
_NEAR_MEMORY_LIMIT = 0.9


Loader = Callable[[Path], LoadedModel]
"""How the child loads a model file (the engine's safe ``load_model``)."""


def _group(job: dict[str, Any], job_dir: Path, schema: FeatureSchema, loader: Loader) -> Group:
    if job["group"]["type"] == "rule":
        return RuleGroup.parse(job["group"]["expression"], schema)
    return ModelGroup(loader(job_dir / job["group"]["file"]))


def run(job_dir: Path, *, loader: Loader = load_model) -> None:
    """Evaluate the job in ``job_dir``; engine errors are written as the job's error, with
    the upload field they are about (``group_model`` or ``model``), and the exhaustion of a
    shared resource as the platform's error."""
    job = json.loads((job_dir / "job.json").read_text())
    schema = FeatureSchema.model_validate(job["schema"])
    (job_dir / STARTED).touch()
    field = "group_model"
    group: Group | None = None
    try:
        group = _group(job, job_dir, schema, loader)
        field = "model"
        model = loader(job_dir / job["model"])
        arrays: dict[str, np.ndarray] = {}
        for split in job["splits"]:
            features = pd.read_parquet(job_dir / f"features-{split}.parquet")
            out = run_pair(group, model, features, schema.label)
            arrays[f"mask-{split}"] = out.mask
            arrays[f"pred-{split}"] = out.predictions
    except EngineError as exc:
        cause = platform_cause(exc)
        if cause is not None:
            _write_error(job_dir, {"message": cause, "code": "sandbox", "platform": True})
            return
        if isinstance(group, ModelGroup) and "group" in str(exc):
            field = "group_model"  # the group model's output was unusable
        _write_error(job_dir, {"message": str(exc), "code": exc.code, "field": field})
        return
    except Exception as exc:
        cause = platform_cause(exc)
        if cause is None:
            raise  # its traceback is the pair's crash
        _write_error(job_dir, {"message": cause, "code": "sandbox", "platform": True})
        return
    save: Any = np.savez  # numpy's stub does not type array keyword arguments
    save(job_dir / "outputs.npz", **arrays)


def _write_error(job_dir: Path, error: dict[str, Any]) -> None:
    (job_dir / "error.json").write_text(json.dumps(error))


def platform_cause(exc: BaseException) -> str | None:
    """What of the machine ran out, if ``exc`` or an exception it was raised from says that a
    shared resource did (EAGAIN, ENOMEM, EMFILE, ENFILE, ENOSPC, EDQUOT, or no new thread) while
    this process is well below its own address-space limit; otherwise None (the pair's fault:
    near the limit, those errors are what the limit gives)."""
    found: BaseException | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_shortage(current):
            found = current
            break
        current = current.__cause__ or current.__context__
    if found is None:
        return None
    memory_bound = not isinstance(found, OSError) or found.errno in _LIMIT_ERRNOS
    if memory_bound and _near_memory_limit():
        return None
    return f"the machine ran out of a shared resource ({describe_exception(found)})"


def _is_shortage(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _SHARED_ERRNOS
    return isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)


def _near_memory_limit() -> bool:
    """Whether this process's peak address space came near its limit."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return True  # cannot tell: the pair's, as the limit would have it
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024 >= _NEAR_MEMORY_LIMIT * limit
    return True


if __name__ == "__main__":
    run(Path(sys.argv[1]))
