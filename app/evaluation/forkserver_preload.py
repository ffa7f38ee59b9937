"""Imported once by the sandbox's fork server: limits numerical libraries to one thread and
runs a small evaluation there, so that every child forked from it starts single-threaded and
warm.

One thread: a child's environment asks for it (``OMP_NUM_THREADS=1`` and the like, set by
``app.evaluation.sandbox``), but OpenMP and OpenBLAS read those variables when they are loaded,
which is here, in the fork server, before any child exists. So the limit is set in the loaded
libraries (threadpoolctl) and every child inherits it. Without it, a child's gradient boosting
ran one OpenMP thread per core, whose busy-waiting, with other evaluations or processes on the
machine, spent more CPU than the model's work (and counted against the pair's CPU-time limit).

Measured in a child before this existed (a course round's depth-6 tree on 20,000 rows): the
pair's own work took about 40 ms, but the child spent about 150 ms more importing what
pandas, pyarrow and scikit-learn import lazily on first use (compiled from source each time:
the fork server runs with ``-B``, so nothing it imports after start-up is cached as bytecode),
discovering narwhals' plugins, and creating what a first ``predict`` creates. Done here once,
a child finds it all in the memory it shares with the fork server.

Only what is safe before a ``fork`` runs here: nothing starts an OpenMP thread pool (a child of
a process that used one can hang in it), so no histogram gradient boosting; and the objects
made here are frozen out of the garbage collector, so a child's collections do not touch (and
copy) the fork server's pages.
"""

from __future__ import annotations

import gc
import io
import logging

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import ModelGroup, RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import run_pair

_LABEL = "y"
log = logging.getLogger("bounty.sandbox")


def _frame() -> pd.DataFrame:
    """A tiny table with a number, a category and a label, read back from parquet as a
    child reads its features."""
    frame = pd.DataFrame(
        {
            "x": np.arange(8, dtype=np.float64),
            "c": ["a", "b"] * 4,
            _LABEL: [0, 1, 1, 0, 0, 1, 1, 0],
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return pd.read_parquet(io.BytesIO(buffer.getvalue()))


def _encoders() -> list[ColumnTransformer]:
    return [
        ColumnTransformer([("c", encoder, ["c"])], remainder="passthrough")
        for encoder in (OrdinalEncoder(), OneHotEncoder(handle_unknown="ignore"))
    ]


def exercise() -> None:
    """Load and run a few common kinds of models through the engine, as a child would."""
    frame = _frame()
    schema = infer_schema(frame, _LABEL)
    features = prepare_features(frame, schema)
    labels = frame[_LABEL].to_numpy()
    estimators = [
        DecisionTreeClassifier(max_depth=2, random_state=0),
        RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0),
        GradientBoostingClassifier(n_estimators=2, max_depth=2, random_state=0),
        LogisticRegression(),
    ]
    rule = RuleGroup.parse("x >= 2 and c == 'a'", schema)
    for encoder in _encoders():
        for estimator in estimators:
            fitted = Pipeline([("encode", encoder), ("model", estimator)]).fit(features, labels)
            model = load_model(dump_sklearn_model(fitted))
            run_pair(rule, model, features, schema.label)
            run_pair(ModelGroup(model), model, features, schema.label)


threadpool_limits(limits=1)
try:
    exercise()
except Exception:  # a failed warm-up costs speed only; it must not take the fork server down
    log.exception("the fork server's warm-up failed; evaluations will start cold")
gc.collect()
gc.freeze()
