"""The evaluation child's confinement, probed from inside a child confined the same way, and
by a model loader that runs code, as a broken one would."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path

import pandas as pd
import pytest

from app.core.storage import LocalStore
from app.evaluation import landlock, sandbox
from bounty_engine.data import infer_schema
from bounty_engine.errors import ModelLoadError
from bounty_engine.models import LoadedModel


def _probe(port: int, report: str) -> None:
    """Runs in a child from the sandbox's fork server: confine, then try to phone home."""
    offline = sandbox._limit_child(sandbox.Limits())
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        outcome = {"offline": offline, "connected": True}
    except OSError as exc:
        outcome = {"offline": offline, "connected": False, "errno": exc.errno}
    Path(report).write_text(json.dumps(outcome))


def test_the_child_cannot_reach_the_network_not_even_this_host(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # the kernel completes handshakes
    port = listener.getsockname()[1]
    # The host's own loopback is reachable from here...
    socket.create_connection(("127.0.0.1", port), timeout=5).close()

    report = tmp_path / "probe.json"
    child = sandbox._context().Process(target=_probe, args=(port, str(report)))
    child.start()
    child.join(60)
    listener.close()
    assert child.exitcode == 0
    outcome = json.loads(report.read_text())
    # ...but not from the child, which has a network of its own with no interface up.
    assert outcome["offline"] is True
    assert outcome["connected"] is False
    assert outcome["errno"] == errno.ENETUNREACH


def hostile_loader(path: Path) -> LoadedModel:
    """A model loader broken into running the model's code: the "model" is a list of things to
    try, and what each attempt gave comes back as the load error's message."""
    tries = json.loads(path.read_text())
    outcomes: dict[str, str] = {}
    for name, target in tries["read"].items():
        try:
            with open(target, "rb") as handle:
                outcomes[name] = "read:" + handle.read(64).decode("utf-8", "replace")
        except OSError as exc:
            outcomes[name] = f"refused:{errno.errorcode.get(exc.errno or 0, exc.errno)}"
    for name, target in tries["list"].items():
        try:
            outcomes[name] = "listed:" + ",".join(sorted(os.listdir(target)))
        except OSError as exc:
            outcomes[name] = f"refused:{errno.errorcode.get(exc.errno or 0, exc.errno)}"
    try:
        Path(tries["write"]).write_text("escaped")
        outcomes["write"] = "written"
    except OSError as exc:
        outcomes["write"] = f"refused:{errno.errorcode.get(exc.errno or 0, exc.errno)}"
    raise ModelLoadError(json.dumps(outcomes))


def test_a_model_that_runs_code_cannot_read_labels_the_database_or_the_store(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    labels = pd.DataFrame({"x0": [0.5, 1.5], "income": ["LABEL-ROW-ONE", "LABEL-ROW-TWO"]})
    label_file = tmp_path / "holdout.parquet"
    labels.to_parquet(label_file)
    sha = store.put_file(label_file)
    label_blob = store.root / sha[:2] / sha
    database = tmp_path / "bounty.db"
    database.write_text("SQLite format 3 DATABASE-SECRET")
    features = tmp_path / "worker-cache" / "features-holdout.parquet"
    features.parent.mkdir()
    labels[["x0"]].to_parquet(features)
    model = tmp_path / "uploads" / "h.model"
    model.parent.mkdir()
    escape = tmp_path / "escaped.txt"
    model.write_text(
        json.dumps(
            {
                "read": {
                    "labels": str(label_blob),
                    "database": str(database),
                    "features": str(features),
                    "own model": str(model),
                },
                "list": {"store": str(store.root), "tmp": str(tmp_path)},
                "write": str(escape),
            }
        )
    )
    # The test's own process, the same user, reads all of it: what stops the model is the
    # sandbox, not the files' permissions.
    assert all(os.access(p, os.R_OK) for p in (label_blob, database, store.root))
    schema = infer_schema(labels, "income")

    with pytest.raises(sandbox.SandboxError) as failed:
        sandbox.run_sandboxed(
            sandbox.PairFiles(model=model, group_expression="True"),
            schema,
            {"holdout": features},
            {"holdout": 2},
            sandbox.Limits(require_file_isolation=True),
            loader=hostile_loader,
        )

    outcomes = json.loads(str(failed.value))
    assert outcomes["labels"] == "refused:EACCES"
    assert outcomes["database"] == "refused:EACCES"
    assert outcomes["store"] == "refused:EACCES"
    assert outcomes["tmp"] == "refused:EACCES"
    assert outcomes["write"] == "refused:EACCES"
    assert not escape.exists()
    # What it was handed it reads: the loader did run, inside the sandbox.
    assert outcomes["own model"].startswith("read:{")
    assert outcomes["features"].startswith("read:PAR1")
    assert "LABEL-ROW" not in str(failed.value)
    assert "DATABASE-SECRET" not in str(failed.value)


def test_this_machine_has_landlock_so_isolation_is_enforced_not_just_tried() -> None:
    """CI's kernel has Landlock: the isolation above is the kernel's, and a deployment that
    sets ``sandbox_require_file_isolation`` gets it."""
    assert landlock.abi_version() >= 1
