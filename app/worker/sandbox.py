"""Run a pair in a child process with resource limits, and read back only validated arrays.

What is enforced here: a separate process forked from a fork server that preloaded the engine
(so no start-up cost per evaluation), in its own session (killed as a group on timeout), that dies
with its parent, in a network namespace of its own with no interface up (where the machine allows
it: as root, or with unprivileged user namespaces; ``sandbox_require_no_network`` makes it a
must), with a scrubbed environment, CPU-time, address-space, file-size and core-dump limits, a
wall-clock timeout, a private temporary working directory, and no labels in its inputs.
Outputs are read with ``allow_pickle=False`` and checked for shape and dtype.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import multiprocessing.context
import os
import resource
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.core.settings import Settings
from app.engine.decision import PairOutput
from app.engine.schema import FeatureSchema, Task

_KEPT_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")
_MAX_OUTPUT_BYTES = 2 * 1024**3
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_FORK_SERVER = multiprocessing.get_context("forkserver")
_preloaded = False


class SandboxError(RuntimeError):
    """The pair could not be evaluated; the message is meant for the participant. ``code``
    and ``field`` say, for a model that failed to load or run, which error and which upload."""

    def __init__(self, message: str, *, code: str = "invalid_model", field: str = "model") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class Limits:
    """Resources one evaluation may use."""

    cpu_seconds: int = 60
    wall_seconds: float = 120.0
    memory_mb: int = 4096
    require_no_network: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings configure."""
        return cls(
            settings.sandbox_cpu_seconds,
            settings.sandbox_wall_seconds,
            settings.sandbox_memory_mb,
            settings.sandbox_require_no_network,
        )


@dataclass(frozen=True)
class PairFiles:
    """The pair to run: a rule or a group model file, and the h model file."""

    model: Path
    group_expression: str | None = None
    group_model: Path | None = None


def _die_with_parent() -> None:
    """Ask Linux to kill the child if its worker dies, so no evaluation outlives its job."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the wall-clock timeout still applies
        pass


def _leave_the_network() -> bool:
    """Move the child into a network namespace of its own, where no interface is up, so a
    model cannot reach any host, this one included. Needs root or unprivileged user
    namespaces; returns whether it worked (where it cannot, the other limits still hold)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if libc.unshare(_CLONE_NEWNET) == 0:
        return True
    # Not root: a user namespace first, where this user may create a network namespace.
    return bool(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0)


def _limit_child(limits: Limits) -> bool:
    """Confine the calling child process; returns whether it is off the network."""
    _die_with_parent()
    offline = _leave_the_network()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_MAX_OUTPUT_BYTES, _MAX_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return offline


def _child_env(home: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
    threads = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
    return {**env, **threads, "PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home)}


def _write_job(job_dir: Path, pair: PairFiles, schema: FeatureSchema, splits: list[str]) -> None:
    group: dict[str, str]
    if pair.group_expression is not None:
        group = {"type": "rule", "expression": pair.group_expression}
    elif pair.group_model is not None:
        (job_dir / "group.model").symlink_to(pair.group_model.resolve())
        group = {"type": "model", "file": "group.model"}
    else:
        raise ValueError("a pair needs a group expression or a group model")
    (job_dir / "h.model").symlink_to(pair.model.resolve())
    job = {
        "schema": schema.model_dump(mode="json"),
        "group": group,
        "model": "h.model",
        "splits": splits,
    }
    (job_dir / "job.json").write_text(json.dumps(job))


def run_sandboxed(
    pair: PairFiles,
    schema: FeatureSchema,
    features: Mapping[str, Path],
    n_rows: Mapping[str, int],
    limits: Limits,
) -> dict[str, PairOutput]:
    """Run g and h on each split's feature file in a sandboxed child; SandboxError if it fails."""
    with tempfile.TemporaryDirectory(prefix="bounty-job-") as tmp:
        job_dir = Path(tmp)
        for split, path in features.items():
            (job_dir / f"features-{split}.parquet").symlink_to(path.resolve())
        _write_job(job_dir, pair, schema, list(features))
        _run_child(job_dir, limits)
        error = job_dir / "error.json"
        if error.exists():
            found = json.loads(error.read_text())
            raise SandboxError(
                found["message"],
                code=found.get("code", "invalid_model"),
                field=found.get("field", "model"),
            )
        return _read_outputs(job_dir / "outputs.npz", schema, n_rows)


def _context() -> multiprocessing.context.ForkServerContext:
    """The fork server: a process that has imported the engine once and forks a warm child per
    evaluation, so an evaluation does not pay the interpreter's and libraries' start-up."""
    global _preloaded  # noqa: PLW0603 (set once per process)
    if not _preloaded:
        # A child re-runs the parent's main module first (multiprocessing does so as
        # ``__mp_main__``); every entry point of ours imports ``app.cli``, so with it preloaded
        # that re-run finds its imports done (it cost about a second per evaluation).
        _FORK_SERVER.set_forkserver_preload(["app.cli", "app.worker.sandbox", "app.worker.child"])
        _preloaded = True
    return _FORK_SERVER


def warm_up() -> None:
    """Start the fork server (it imports the engine once, which takes seconds) by running an
    empty child, so that the first evaluation does not wait for it."""
    child = _context().Process(target=_nothing, daemon=True)
    child.start()
    child.join()


def _nothing() -> None:
    """The empty child of ``warm_up``."""


def _enter_child(job_dir: str, limits: Limits) -> None:
    """First code of the evaluation child: confine it, then run the job."""
    os.setsid()  # its own process group, killed as a whole on timeout
    offline = _limit_child(limits)
    env = _child_env(Path(job_dir))
    os.environ.clear()
    os.environ.update(env)
    os.chdir(job_dir)
    log = os.open(os.path.join(job_dir, "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    if limits.require_no_network and not offline:
        message = "the evaluation cannot be cut off the network on this worker; ask the organizer"
        Path(job_dir, "error.json").write_text(json.dumps({"message": message, "code": "sandbox"}))
        return
    from app.worker.child import run  # noqa: PLC0415 (preloaded by the fork server)

    run(Path(job_dir))


def _run_child(job_dir: Path, limits: Limits) -> None:
    process = _context().Process(target=_enter_child, args=(str(job_dir), limits), daemon=True)
    process.start()
    process.join(limits.wall_seconds)
    if process.exitcode is None:
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.join()
        raise SandboxError(
            f"the evaluation took longer than {limits.wall_seconds:g} seconds and was stopped"
        )
    if process.exitcode != 0:
        log = job_dir / "stderr.txt"
        stderr = log.read_text(errors="replace") if log.exists() else ""
        raise SandboxError(_describe_exit(process.exitcode, stderr))


def _describe_exit(code: int, stderr: str) -> str:
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return "the evaluation used more CPU time than allowed and was stopped"
    if "MemoryError" in stderr or code == -signal.SIGSEGV:
        return "the evaluation ran out of memory or crashed"
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
    return f"the evaluation crashed: {last[:300]}"


def _read_outputs(
    path: Path, schema: FeatureSchema, n_rows: Mapping[str, int]
) -> dict[str, PairOutput]:
    if not path.exists():
        raise SandboxError("the evaluation produced no output")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {
                split: _checked(arrays[f"mask-{split}"], arrays[f"pred-{split}"], schema, n)
                for split, n in n_rows.items()
            }
    except (KeyError, ValueError, OSError) as exc:
        raise SandboxError(f"the evaluation produced unreadable output: {exc}") from exc


def _checked(
    mask: npt.NDArray[np.generic], pred: npt.NDArray[np.generic], schema: FeatureSchema, n: int
) -> PairOutput:
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise SandboxError("the evaluation produced a malformed group mask")
    n_classes = len(schema.label.classes or [])
    if schema.label.task is Task.CLASSIFICATION:
        valid = pred.dtype.kind in "iu" and (
            pred.size == 0 or (pred.min() >= 0 and pred.max() < n_classes)
        )
    else:
        valid = pred.dtype.kind == "f"
    if not valid or pred.shape != (int(mask.sum()),):
        raise SandboxError("the evaluation produced malformed predictions")
    return PairOutput(mask.astype(np.bool_), pred)
