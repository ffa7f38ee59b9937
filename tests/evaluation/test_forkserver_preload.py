"""The fork server warms up once, so that an evaluation child starts with what a first
evaluation imports and creates already in memory."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from app.evaluation import sandbox
from app.evaluation.sandbox import THREAD_VARIABLES

LAZY_MODULES = ("pyarrow.dataset", "pyarrow.pandas_compat", "narwhals._pandas_like.dataframe")
"""Imported only when features are read and a model predicts, not by importing the engine
(what the fork server imports besides the warm-up)."""


def _report(path: str) -> None:
    """A child's report: which of the lazy modules it found imported, and how many objects
    its fork server had frozen out of the garbage collector."""
    found = [name for name in LAZY_MODULES if name in sys.modules]
    Path(path).write_text(f"{','.join(found)}\n{gc.get_freeze_count()}")


def test_a_child_finds_the_lazy_imports_done_and_the_fork_servers_objects_frozen(
    tmp_path: Path,
) -> None:
    child = sandbox._context().Process(target=_report, args=(str(tmp_path / "report"),))
    child.start()
    child.join()
    assert child.exitcode == 0
    modules, frozen = (tmp_path / "report").read_text().splitlines()
    assert modules.split(",") == list(LAZY_MODULES)
    assert int(frozen) > 100_000  # the engine's and libraries' objects, not a handful


def test_the_engine_alone_leaves_those_imports_to_the_first_evaluation(tmp_path: Path) -> None:
    # Without this, the test above would pass whether or not the warm-up ran.
    script = (
        "import sys, app.cli, app.evaluation.sandbox, app.evaluation.child\n"
        f"print(','.join(m for m in {LAZY_MODULES!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == ""


def test_the_warm_up_runs_the_engine_on_every_kind_of_model_it_names() -> None:
    from app.evaluation import forkserver_preload  # imported here: its import is the warm-up

    forkserver_preload.exercise()  # raises if a model kind failed to load or run


_THREADS_SCRIPT = """
import json, os
import sklearn.ensemble
from threadpoolctl import threadpool_info
def threads():
    return sorted({(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()})
before = threads()
import app.evaluation.forkserver_preload  # what the fork server imports, then it forks
pid = os.fork()
if pid == 0:
    print(json.dumps({"before": before, "child": threads()}), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_a_child_runs_numerical_libraries_with_one_thread_whatever_the_environment() -> None:
    # The libraries read OMP_NUM_THREADS and the like when loaded, in the fork server, from
    # the environment of whoever started it: here, one that does not ask for a limit.
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    found = json.loads(done.stdout)
    apis = {api for api, _ in found["child"]}
    assert {"openmp", "openblas"} <= apis  # scikit-learn's gradient boosting, numpy's BLAS
    assert {threads for _, threads in found["child"]} == {1}
    if (os.cpu_count() or 1) > 1:  # without the limit, they would have used every core
        assert max(threads for _, threads in found["before"]) > 1
