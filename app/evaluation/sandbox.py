"""Run a pair in a child process with resource limits, and read back only validated arrays.

What is enforced here: a separate process forked from a fork server that preloaded the engine
(so no start-up cost per evaluation), in its own session (killed as a group on timeout), that dies
with its parent, in a network namespace of its own with no interface up (where the machine allows
it: as root, or with unprivileged user namespaces; ``sandbox_require_no_network`` makes it a
must), with a scrubbed environment, CPU-time, address-space, file-size and core-dump limits, a
wall-clock timeout, a private temporary working directory, and no labels in its inputs; and,
where the kernel has Landlock, unable to read any file but its job's and the Python
installation's, or to write outside its job directory (``app.evaluation.landlock``;
``sandbox_require_file_isolation`` makes it a must).
Outputs are read with ``allow_pickle=False`` and checked for shape and dtype.

Whose fault a failed evaluation is
----------------------------------
A failure is either the pair's (``SandboxError``: an invalid pair, 422 at upload, an invalid
verdict in the worker) or the platform's (``SandboxUnavailable``: tried again, 503 at upload,
the job retried by the worker). A busy machine must never make a valid pair invalid, and a pair
must never pass its own failure off as the platform's, so the rules rest on what the pair cannot
forge: the child touches the job's ``started`` file (``app.evaluation.child``) before it reads
anything of the pair, and an uploaded model is loaded only through the engine's safe loaders,
so it runs no code of its own (it cannot signal, exit or write files).

The platform's (``SandboxUnavailable``):

- the child could not be started: ``Process.start`` raised (``OSError`` such as EAGAIN or
  ENOMEM from fork, pipes or sockets; ``EOFError`` when the fork server died because its own
  fork failed), or the job directory could not be written;
- exit code 255: multiprocessing reports it when the fork server died and the child's status was
  lost (the fork server's own fork failed with EAGAIN/ENOMEM, or the OOM killer took it); the
  child, if it still runs, is killed with its process group. This was the "exit code 255" that
  refused a valid pair on a busy machine;
- any exit before ``started`` exists: the fork server's child failing in multiprocessing's
  bootstrap (its traceback goes to the fork server's stderr, there is no ``stderr.txt``) or
  while it confines itself, a kill before the job began;
- ``error.json`` with ``platform``: the child caught an exception from a shared resource running
  out (EAGAIN, ENOMEM, EMFILE, ENFILE, ENOSPC, EDQUOT, "can't start new thread") while its own
  address space was well below its limit (near it, EAGAIN and ENOMEM are what the limit itself
  gives, so they are the pair's), or the child cannot be taken off the network where that is
  required;
- a signal from outside after the job started: SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1/2, ...,
  and SIGKILL unless the child had used its CPU time (the hard CPU limit sends SIGKILL) or most of
  its address space (see below);
- a nonzero exit after the job started with neither ``error.json`` nor a traceback.

The pair's (``SandboxError``): ``error.json`` written for an engine error (the model failed to
load or run: the loaders turn any exception of the model, MemoryError included, into one), a
Python traceback from the job (MemoryError included), SIGXCPU (the CPU limit), the wall-clock
timeout (we kill it; the pair's time, even if a slow machine made it slower, since a model that
stalls must not be retried, and a child reaches the job within milliseconds of its start),
SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP and SIGXFSZ after the job started (the
model crashed its runtime or wrote too much), and missing, unreadable or malformed outputs. (An
address-space limit below what a child of the fork server already maps, about 0.7 GB, makes
every pair run out of memory: a configuration error these rules cannot tell from the pair's.)

SIGKILL after the job started is the ambiguous case: the OOM killer, an operator or a container
runtime sends it, and so does the hard CPU limit. The parent samples the child's CPU time and
peak address space (``/proc/<pid>/stat``, ``VmPeak``) while it waits: a child killed with its
CPU time used, or at 90% or more of its address-space limit, was itself the problem (it was
about to hit its limit, or was the process the OOM killer had to pick); a child killed well
below both was killed for the machine's sake, which is the platform's failure even if the
child's own usage counted: the platform promised it the limit. A spike in the last quarter of
a second before the kill can be missed; the cost of that error is bounded, since the worker
gives up after a few attempts (abandoned, not counted against the team) and an upload answers
503 after a few.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import multiprocessing.forkserver
import os
import resource
import signal
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from app.core.settings import Settings
from app.evaluation import landlock
from app.evaluation.child import STARTED, Loader
from bounty_engine.decision import PairOutput
from bounty_engine.models import load_model
from bounty_engine.models.messages import describe_exception
from bounty_engine.schema import FeatureSchema, Task

log = logging.getLogger("bounty.sandbox")

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""What numerical libraries read, when loaded, for the size of their thread pools."""
_KEPT_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")
_MAX_OUTPUT_BYTES = 2 * 1024**3
_PR_SET_PDEATHSIG = 1
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_FORK_SERVER = multiprocessing.get_context("forkserver")
WARM = "the evaluation sandbox is warm"
"""What ``warm_up`` logs once evaluations no longer wait for the fork server."""
_preloaded = False
_SAMPLE_SECONDS = 0.25  # how often the parent reads the child's CPU time and address space
_NEAR_MEMORY_LIMIT = 0.9
_LOST = 255  # multiprocessing's exit code when the fork server died and the status was lost
# Workers that share a process (the demo's, the tests') start and reap children from several
# threads, which multiprocessing does not make safe: every ``Process.start()`` polls all earlier
# children, and a fork-server child's exit status is one message read once from its sentinel, so
# two threads polling the same child both read it and the second, finding the pipe empty, records
# exit code 255 as if the fork server had died. Children are started and polled under this lock
# only; waiting for them (on their sentinels) happens outside it.
_CHILDREN = threading.Lock()
_CRASH_SIGNALS = frozenset(
    {
        signal.SIGSEGV,
        signal.SIGBUS,
        signal.SIGILL,
        signal.SIGFPE,
        signal.SIGABRT,
        signal.SIGSYS,
        signal.SIGTRAP,
        signal.SIGXFSZ,
    }
)
_TRACEBACK = "Traceback (most recent call last)"


class SandboxError(RuntimeError):
    """The pair could not be evaluated through its own fault; the message is meant for the
    participant. ``code`` and ``field`` say, for a model that failed to load or run, which error
    and which upload."""

    def __init__(self, message: str, *, code: str = "invalid_model", field: str = "model") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class SandboxUnavailable(RuntimeError):  # noqa: N818 (it says what it means)
    """The platform could not run the evaluation: not the pair's fault, and worth trying again
    later (see the module's docstring for what counts). Deliberately not a ``SandboxError``, so
    that code which turns those into invalid verdicts cannot catch it by accident."""


@dataclass(frozen=True)
class Limits:
    """Resources one evaluation may use."""

    cpu_seconds: int = 60
    wall_seconds: float = 120.0
    memory_mb: int = 4096
    require_no_network: bool = False
    require_file_isolation: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings configure."""
        return cls(
            settings.sandbox_cpu_seconds,
            settings.sandbox_wall_seconds,
            settings.sandbox_memory_mb,
            settings.sandbox_require_no_network,
            settings.sandbox_require_file_isolation,
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
    threads = dict.fromkeys(THREAD_VARIABLES, "1")
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
    *,
    loader: Loader = load_model,
) -> dict[str, PairOutput]:
    """Run g and h on each split's feature file in a sandboxed child: SandboxError if it fails
    through the pair's fault, SandboxUnavailable if through the platform's.

    ``loader`` is how the child loads a model file: always the engine's safe loaders, except in
    the tests of the sandbox, which pass one that runs code, as a broken loader would."""
    try:
        tmp = tempfile.TemporaryDirectory(prefix="bounty-job-")
    except OSError as exc:
        raise SandboxUnavailable(f"no job directory ({describe_exception(exc)})") from exc
    with tmp:
        job_dir = Path(tmp.name)
        try:
            for split, path in features.items():
                (job_dir / f"features-{split}.parquet").symlink_to(path.resolve())
            _write_job(job_dir, pair, schema, list(features))
        except OSError as exc:
            raise SandboxUnavailable(
                f"the job could not be written ({describe_exception(exc)})"
            ) from exc
        _run_child(job_dir, limits, loader)
        error = job_dir / "error.json"
        if error.exists():
            found = json.loads(error.read_text())
            if found.get("platform"):
                raise SandboxUnavailable(found["message"])
            raise SandboxError(
                found["message"],
                code=found.get("code", "invalid_model"),
                field=found.get("field", "model"),
            )
        if not (job_dir / STARTED).exists():
            raise SandboxUnavailable("the evaluation process ended before it started the job")
        return _read_outputs(job_dir / "outputs.npz", schema, n_rows)


def _context() -> multiprocessing.context.ForkServerContext:
    """The fork server: a process that has imported the engine once and forks a warm child per
    evaluation, so an evaluation does not pay the interpreter's and libraries' start-up."""
    global _preloaded  # noqa: PLW0603 (set once per process)
    if not _preloaded:
        # A child re-runs the parent's main module first (multiprocessing does so as
        # ``__mp_main__``); every entry point of ours imports ``app.cli``, so with it preloaded
        # that re-run finds its imports done (it cost about a second per evaluation).
        # The last one warms the fork server up with a small evaluation (see there why).
        _FORK_SERVER.set_forkserver_preload(
            [
                "app.cli",
                "app.evaluation.sandbox",
                "app.evaluation.child",
                "app.evaluation.forkserver_preload",
            ]
        )
        _preloaded = True
    return _FORK_SERVER


def warn_if_files_unconfined() -> None:
    """Log a warning where the kernel cannot confine evaluation children to their own files."""
    if landlock.abi_version() < 1:
        log.warning(
            "this kernel has no Landlock: evaluation children are not confined to their own "
            "files (set BOUNTY_SANDBOX_REQUIRE_FILE_ISOLATION to refuse to evaluate instead)"
        )


def warm_up() -> int:
    """Start the fork server (it imports the engine once, which takes seconds) by running an
    empty child, so that the first evaluation does not wait for it; returns the child's exit
    code (nonzero, logged: this machine cannot start evaluation processes)."""
    started = time.monotonic()
    child = _context().Process(target=_nothing, daemon=True)
    with _CHILDREN:
        child.start()
    code = _wait(child, None)
    if code != 0:
        log.error("the fork server could not run an empty child (%s)", _exit_name(code))
    else:
        log.info("%s in %.1f s", WARM, time.monotonic() - started)
    return code


def _nothing() -> None:
    """The empty child of ``warm_up``."""


def _enter_child(job_dir: str, limits: Limits, loader: Loader) -> None:
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
    if limits.require_no_network and not offline:  # the machine's failing, not the pair's
        _platform_error(job_dir, "the evaluation cannot be cut off the network on this machine")
        return
    isolated = _isolate_files(Path(job_dir))
    if limits.require_file_isolation and not isolated:
        _platform_error(job_dir, "the evaluation cannot be isolated from the machine's files here")
        return
    from app.evaluation.child import run  # noqa: PLC0415 (preloaded by the fork server)

    run(Path(job_dir), loader=loader)


def _isolate_files(job_dir: Path) -> bool:
    """Leave the child able to read only its job's files (the features and the two models the
    job directory links to), the Python installation and system libraries, and to write only
    in its job directory (``app.evaluation.landlock``); returns whether the kernel could."""
    handed = [entry.resolve() for entry in job_dir.iterdir() if entry.is_symlink()]
    try:
        landlock.confine(read=landlock.python_paths(), read_files=handed, write=[job_dir])
    except landlock.LandlockUnavailable:
        return False
    return True


def _platform_error(job_dir: str, message: str) -> None:
    error = {"message": f"{message}; ask the organizer", "code": "sandbox", "platform": True}
    Path(job_dir, "error.json").write_text(json.dumps(error))


_SERVER_GONE = (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, FileNotFoundError)


def _started(job_dir: Path, limits: Limits, loader: Loader) -> multiprocessing.process.BaseProcess:
    """The evaluation child, started. A fork server that died (killed, or the OOM killer's
    pick) refuses connections until multiprocessing notices: it is then stopped for good and a
    new one started, once."""
    try:
        return _start_child(job_dir, limits, loader)
    except _SERVER_GONE:
        _forget_fork_server()
        return _start_child(job_dir, limits, loader)


def _start_child(
    job_dir: Path, limits: Limits, loader: Loader
) -> multiprocessing.process.BaseProcess:
    process = _context().Process(
        target=_enter_child, args=(str(job_dir), limits, loader), daemon=True
    )
    with _CHILDREN:
        process.start()
    return process


@overload
def _wait(process: multiprocessing.process.BaseProcess, timeout: None) -> int: ...
@overload
def _wait(process: multiprocessing.process.BaseProcess, timeout: float) -> int | None: ...
def _wait(process: multiprocessing.process.BaseProcess, timeout: float | None) -> int | None:
    """The child's exit code once it has ended, or None if it still runs after ``timeout``
    seconds (None: no limit). Never reads a status another thread may be reading (``_CHILDREN``)."""
    if not multiprocessing.connection.wait([process.sentinel], timeout):
        return None
    with _CHILDREN:
        process.join()  # its status is ready (or its fork server gone): this does not block
        return process.exitcode


def _forget_fork_server() -> None:
    """Reap the dead fork server and clear multiprocessing's record of it (its own ``_stop``
    would wait on a process already reaped), so that the next start launches a new one."""
    server: Any = multiprocessing.forkserver._forkserver
    with server._lock:
        if server._forkserver_alive_fd is not None:
            os.close(server._forkserver_alive_fd)
            server._forkserver_alive_fd = None
        if server._forkserver_pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(server._forkserver_pid, 0)
            server._forkserver_pid = None
        address = server._forkserver_address
        if isinstance(address, str) and not address.startswith("\0"):
            Path(address).unlink(missing_ok=True)
        server._forkserver_address = None


def _run_child(job_dir: Path, limits: Limits, loader: Loader) -> None:
    """Run the child to its end; raise if it failed (whose fault: the module's docstring)."""
    try:
        process = _started(job_dir, limits, loader)
    except (OSError, EOFError) as exc:  # EOFError: the fork server died (its fork failed)
        raise SandboxUnavailable(
            f"the evaluation process could not be started ({describe_exception(exc)})"
        ) from exc
    code, usage = _watch(process, limits.wall_seconds)
    if code is None:
        _kill_group(process.pid)
        _wait(process, None)
        raise SandboxError(
            f"the evaluation took longer than {limits.wall_seconds:g} seconds and was stopped"
        )
    if code == _LOST:
        _kill_group(process.pid)  # it may outlive its fork server if killed before it confined
    if code != 0:
        log = job_dir / "stderr.txt"
        stderr = log.read_text(errors="replace") if log.exists() else ""
        started = (job_dir / STARTED).exists()
        raise _failure(code, stderr, started=started, usage=usage, limits=limits)


def _kill_group(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


@dataclass
class _Usage:
    """The most CPU time and address space the child was seen to use."""

    cpu_seconds: float = 0.0
    memory_bytes: int = 0
    start_time: str | None = None  # tells the child from a later process with the same pid

    def sample(self, pid: int | None) -> None:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, IndexError):  # gone, or not Linux
            return
        if self.start_time not in (None, stat[19]):
            return
        self.start_time = stat[19]
        with contextlib.suppress(ValueError, IndexError):
            ticks = int(stat[11]) + int(stat[12])  # utime + stime
            self.cpu_seconds = max(self.cpu_seconds, ticks / os.sysconf("SC_CLK_TCK"))
        for line in status.splitlines():
            if line.startswith("VmPeak:"):
                with contextlib.suppress(ValueError, IndexError):
                    self.memory_bytes = max(self.memory_bytes, int(line.split()[1]) * 1024)


def _watch(
    process: multiprocessing.process.BaseProcess, wall_seconds: float
) -> tuple[int | None, _Usage]:
    """Wait for the child's end or the wall-clock limit, sampling its usage meanwhile (the wait
    ends as soon as the child does); its exit code is None if it still runs."""
    usage = _Usage()
    deadline = time.monotonic() + wall_seconds
    while True:
        usage.sample(process.pid)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, usage
        code = _wait(process, min(remaining, _SAMPLE_SECONDS))
        if code is not None:
            return code, usage


def _failure(
    code: int, stderr: str, *, started: bool, usage: _Usage, limits: Limits
) -> SandboxError | SandboxUnavailable:
    """Whose fault a nonzero exit is, with its message (the rules: the module's docstring)."""
    if code == _LOST:
        return SandboxUnavailable("the fork server died during the evaluation (exit code 255)")
    if not started:
        return SandboxUnavailable(
            f"the evaluation process died before it started the job ({_exit_name(code)})"
        )
    memory_limit = limits.memory_mb * 1024 * 1024
    if code < 0:
        sig = -code
        used_cpu = usage.cpu_seconds >= limits.cpu_seconds
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and used_cpu):
            return SandboxError("the evaluation used more CPU time than allowed and was stopped")
        if sig == signal.SIGKILL:
            if usage.memory_bytes >= _NEAR_MEMORY_LIMIT * memory_limit:
                return SandboxError("the evaluation ran out of memory and was stopped")
            return SandboxUnavailable(
                "the evaluation was killed from outside (SIGKILL, likely the machine running "
                f"out of memory) at {usage.memory_bytes // 2**20} MB of its "
                f"{limits.memory_mb} MB"
            )
        if sig in _CRASH_SIGNALS:
            return SandboxError("the evaluation ran out of memory or crashed")
        return SandboxUnavailable(f"the evaluation was stopped from outside ({_exit_name(code)})")
    if "MemoryError" in stderr:
        return SandboxError("the evaluation ran out of memory or crashed")
    if _TRACEBACK in stderr:
        last = stderr.strip().splitlines()[-1]
        return SandboxError(f"the evaluation crashed: {last[:300]}")
    return SandboxUnavailable(f"the evaluation process exited with code {code} and no error")


def _exit_name(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


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
