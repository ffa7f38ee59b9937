"""Whose fault a failed evaluation is (``app/evaluation/sandbox.py``): the pair's own failures stay
``SandboxError``, and what the platform does to a child (a failed start, a kill from outside,
the fork server dying, a child that cannot even start the job) is ``SandboxUnavailable``.

Children are real, and so are the kills; only a failing ``fork`` (EAGAIN), which a test cannot
cause for one process without starving the whole machine, is simulated at ``Process.start``.
"""

from __future__ import annotations

import errno
import multiprocessing.context
import multiprocessing.forkserver
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from app.evaluation import child, sandbox
from app.evaluation.sandbox import Limits, PairFiles, SandboxError, SandboxUnavailable
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.errors import ModelLoadError, PredictionError
from bounty_engine.models import dump_sklearn_model
from bounty_engine.schema import FeatureSchema
from tests.support.rounds import LABEL, synthetic_frame

ForkServerProcess = multiprocessing.context.ForkServerProcess
REAL_START = ForkServerProcess.start


@dataclass
class Job:
    """A valid pair (a rule and a default model) and 200 rows of features to run it on."""

    schema: FeatureSchema
    features: Path
    model: Path
    rows: int

    def run(self, limits: Limits | None = None, model: Path | None = None) -> object:
        pair = PairFiles(model or self.model, group_expression="x0 > 0")
        return sandbox.run_sandboxed(
            pair, self.schema, {"sample": self.features}, {"sample": self.rows}, limits or Limits()
        )


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Job:
    folder = tmp_path_factory.mktemp("job")
    frame = synthetic_frame(400)
    schema = infer_schema(frame, LABEL)
    features = folder / "features.parquet"
    prepare_features(frame.head(200), schema).to_parquet(features)
    model = folder / "h.skops"
    model.write_bytes(dump_sklearn_model(train_default_model(frame, schema)))
    return Job(schema, features, model, 200)


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[int]]:
    """Install what happens at each start of an evaluation child (after the real start, with
    the child's pid); returns the list of pids started."""
    started: list[int] = []

    def install(*after: Callable[[ForkServerProcess], None]) -> list[int]:
        plan = list(after)

        def start(process: ForkServerProcess) -> None:
            REAL_START(process)
            assert process.pid is not None
            started.append(process.pid)
            if plan:
                plan.pop(0)(process)

        monkeypatch.setattr(ForkServerProcess, "start", start)
        return started

    return install


def kill(sig: signal.Signals) -> Callable[[ForkServerProcess], None]:
    def send(process: ForkServerProcess) -> None:
        assert process.pid is not None
        os.kill(process.pid, sig)

    return send


def test_a_valid_pair_runs(job: Job) -> None:
    outputs = job.run()
    assert isinstance(outputs, dict)
    assert set(outputs) == {"sample"}


def test_a_model_that_raises_is_the_pairs_fault(job: Job, tmp_path: Path) -> None:
    # Fitted on a column the round does not have: it raises as soon as it predicts.
    stranger = LogisticRegression().fit(pd.DataFrame({"zz": [0.0, 1.0, 2.0, 3.0]}), [0, 1, 0, 1])
    model = tmp_path / "stranger.skops"
    model.write_bytes(dump_sklearn_model(stranger))
    with pytest.raises(SandboxError, match="the model failed while predicting"):
        job.run(model=model)


def test_a_child_killed_from_outside_is_the_platforms_failure(
    job: Job, starts: Callable[..., list[int]]
) -> None:
    started = starts(kill(signal.SIGKILL), kill(signal.SIGTERM))
    with pytest.raises(SandboxUnavailable, match=r"killed|stopped from outside|before it started"):
        job.run()
    with pytest.raises(SandboxUnavailable, match=r"stopped from outside|before it started"):
        job.run()
    assert len(started) == 2
    assert isinstance(job.run(), dict)  # the platform recovered: the same pair runs


def test_a_fork_server_that_dies_mid_evaluation_is_the_platforms_failure(
    job: Job, starts: Callable[..., list[int]]
) -> None:
    """The issue's "exit code 255": multiprocessing's code for a child whose fork server died
    (its own fork failed, or the OOM killer took it)."""

    def kill_fork_server(process: ForkServerProcess) -> None:
        server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
        assert server is not None
        os.kill(server, signal.SIGKILL)

    starts(kill_fork_server)
    with pytest.raises(SandboxUnavailable, match="fork server died"):
        job.run()
    assert isinstance(job.run(), dict)  # a new fork server is started for the next one


def test_children_started_and_reaped_from_several_threads_all_report_their_own_exit() -> None:
    """Workers sharing a process (the demo's) start children side by side. multiprocessing reads
    a fork-server child's status once, and every start polls all earlier children: without
    ``sandbox._CHILDREN`` about one child in ten was reported as exit code 255, a dead fork
    server (CI saw a submission retried for it)."""
    codes: list[int] = []

    def run_children() -> None:
        codes.extend(sandbox.warm_up() for _ in range(40))

    threads = [threading.Thread(target=run_children) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [0] * 160


def test_a_failed_fork_is_the_platforms_failure(job: Job, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(process: ForkServerProcess) -> None:
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    monkeypatch.setattr(ForkServerProcess, "start", no_fork)
    with pytest.raises(SandboxUnavailable, match=r"could not be started.*temporarily unavailable"):
        job.run()


def test_the_wall_clock_timeout_stays_the_pairs_fault(job: Job) -> None:
    with pytest.raises(SandboxError, match="longer than"):
        job.run(Limits(wall_seconds=0.001))


@pytest.mark.parametrize(
    ("code", "started", "cpu", "memory_mb", "fault", "says"),
    [
        (-signal.SIGXCPU, True, 60.0, 300, SandboxError, "CPU time"),
        (-signal.SIGKILL, True, 61.0, 300, SandboxError, "CPU time"),  # the hard CPU limit
        (-signal.SIGKILL, True, 2.0, 3900, SandboxError, "out of memory"),  # the OOM's pick
        (-signal.SIGKILL, True, 2.0, 300, SandboxUnavailable, "killed from outside"),
        (-signal.SIGKILL, False, 0.0, 0, SandboxUnavailable, "before it started"),
        (-signal.SIGSEGV, True, 2.0, 300, SandboxError, "crashed"),
        (-signal.SIGTERM, True, 2.0, 300, SandboxUnavailable, "SIGTERM"),
        (1, True, 2.0, 300, SandboxUnavailable, "code 1 and no error"),
        (1, False, 0.0, 0, SandboxUnavailable, "before it started"),
        (255, True, 2.0, 300, SandboxUnavailable, "fork server died"),
    ],
)
def test_how_an_exit_is_classified(
    *,
    code: int,
    started: bool,
    cpu: float,
    memory_mb: int,
    fault: type[Exception],
    says: str,
) -> None:
    """The rules of the module's docstring, for what a test cannot produce on demand (the OOM
    killer's choice, the hard CPU limit)."""
    usage = sandbox._Usage(cpu_seconds=cpu, memory_bytes=memory_mb * 2**20)
    limits = Limits(cpu_seconds=60, memory_mb=4096)
    found = sandbox._failure(code, "", started=started, usage=usage, limits=limits)
    assert type(found) is fault
    assert says in str(found)


def test_a_traceback_of_the_job_is_the_pairs_fault() -> None:
    usage = sandbox._Usage(cpu_seconds=1.0, memory_bytes=300 * 2**20)
    traceback = "Traceback (most recent call last):\n  ...\nRecursionError: too deep\n"
    found = sandbox._failure(1, traceback, started=True, usage=usage, limits=Limits())
    assert isinstance(found, SandboxError)
    assert str(found) == "the evaluation crashed: RecursionError: too deep"
    memory = sandbox._failure(1, "MemoryError\n", started=True, usage=usage, limits=Limits())
    assert isinstance(memory, SandboxError)


def test_a_shortage_of_the_machine_under_the_job_is_the_platforms() -> None:
    """What the child reports as the platform's: a shared resource running out, seen through
    the engine's wrapping of the model's exceptions."""
    for shortage in (
        OSError(errno.EAGAIN, os.strerror(errno.EAGAIN)),
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        RuntimeError("can't start new thread"),
    ):
        try:
            try:
                raise shortage
            except Exception as exc:
                raise PredictionError("the model failed while predicting") from exc
        except PredictionError as wrapped:
            cause = child.platform_cause(wrapped)
        assert cause is not None
        assert "shared resource" in cause
    # The pair's own failures are not.
    assert child.platform_cause(ModelLoadError("untrusted type 'os.system'")) is None
    assert child.platform_cause(MemoryError()) is None
    assert child.platform_cause(OSError(errno.ENOENT, "No such file")) is None
