"""Service benchmark (run by hand): submit-to-verdict latency with the embedded default.

``uv run python -m bench.latency [--rows 250000 --submissions 20]``

Starts ``bounty demo`` (API and one worker in one process, SQLite, local artifact store) in a
temporary directory, then through the HTTP API as a real client would: creates a round from UCI
Adult rows resampled to ``--rows`` (40% holdout: 100,000 rows by default), trains its default
base model and opens it; signs up a researcher with a team; then submits pairs one at a time,
an expression group and a depth-6 decision tree h, and times each from the start of the upload
to the verdict arriving on the submission's event stream (Server-Sent Events). Reports p50 and
p95, against a baseline measured in the same run: the engine alone loading h and running the
pair in process on the train split (as many rows as the holdout), i.e. the work itself.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from app.seed import DEMO_ORGANIZER
from bench.server import free_port, serve
from bounty_engine.baseline import ordinal_features
from bounty_engine.data import infer_schema, label_values, prepare_features
from bounty_engine.datasets.adult import ADULT_LABEL, load_adult
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import run_pair

GROUPS = (
    "capital_gain > 0",
    'marital_status == "Married-civ-spouse" and education_num >= 13',
    'occupation == "Exec-managerial"',
    "age >= 50 and hours_per_week >= 45",
)


def _tree_h(train: Any, rule: str) -> bytes:
    """A depth-6 decision tree trained on the training rows of ``rule``, as a skops file."""
    schema = infer_schema(train, ADULT_LABEL)
    features = prepare_features(train, schema)
    mask = RuleGroup.parse(rule, schema).mask(features)
    encode = ordinal_features(schema)
    model = Pipeline([("features", encode), ("tree", DecisionTreeClassifier(max_depth=6))])
    model.fit(features.loc[mask], label_values(train, schema)[mask])
    return dump_sklearn_model(model)


def _engine_alone(train: pd.DataFrame, rule: str, model: bytes) -> float:
    """Seconds to load h and run the pair on ``train`` in this process: the work itself."""
    schema = infer_schema(train, ADULT_LABEL)
    features = prepare_features(train, schema)
    start = time.perf_counter()
    run_pair(RuleGroup.parse(rule, schema), load_model(model), features, schema.label)
    return time.perf_counter() - start


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


def _sign_in(api: httpx.Client, email: str, password: str) -> dict[str, str]:
    token = _ok(api.post("/auth/token", data={"username": email, "password": password}))
    return {"Authorization": f"Bearer {token['access_token']}"}


def _setup_round(api: httpx.Client, rows: int) -> tuple[str, dict[str, str], Any]:
    """An open round on ``rows`` resampled Adult rows; (slug, researcher headers, train)."""
    org = _sign_in(api, *DEMO_ORGANIZER)
    body = {"title": "Latency", "alpha": 0.0005, "min_group_rows": 30, "daily_quota": 10_000}
    slug = _ok(api.post("/rounds", json=body, headers=org))["slug"]
    adult = load_adult()
    frame = adult.sample(rows, replace=True, random_state=0).reset_index(drop=True)
    form = {"label": ADULT_LABEL, "train_fraction": "0.4", "holdout_fraction": "0.4"}
    form |= {"test_fraction": "0.2", "seed": "0"}
    files = {"file": ("adult.csv", frame.to_csv(index=False).encode(), "text/csv")}
    _ok(api.post(f"/rounds/{slug}/dataset", data=form, files=files, headers=org, timeout=600))
    _ok(api.post(f"/rounds/{slug}/base-model/default", headers=org, timeout=600))
    _ok(api.post(f"/rounds/{slug}/open", headers=org))
    email, password = "latency@bench.biasbounty.org", "bench-password-1"
    _ok(api.post("/auth/signup", json={"email": email, "password": password, "display_name": "L"}))
    researcher = _sign_in(api, email, password)
    _ok(api.post(f"/rounds/{slug}/teams", json={"name": "Bench"}, headers=researcher))
    data = api.get(f"/rounds/{slug}/data/train.parquet", headers=researcher, timeout=120)
    return slug, researcher, pd.read_parquet(io.BytesIO(data.content))


def _submit_and_wait(
    api: httpx.Client, headers: dict[str, str], slug: str, rule: str, model: bytes
) -> tuple[float, dict[str, Any]]:
    """Seconds from the start of the upload to the verdict on the event stream; the verdict."""
    start = time.perf_counter()
    created = _ok(
        api.post(
            f"/rounds/{slug}/submissions",
            data={"group_expression": rule},
            files={"model": ("h.skops", model, "application/octet-stream")},
            headers=headers,
        )
    )
    sub_id = created["submission"]["id"]
    with api.stream("GET", f"/submissions/{sub_id}/events", headers=headers, timeout=300) as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                current = json.loads(line.removeprefix("data: "))
                if current["status"] == "decided":
                    return time.perf_counter() - start, current
    raise SystemExit(f"the event stream of submission {sub_id} ended without a verdict")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bounty-latency-") as tmp:
        port = free_port()
        env = {
            "BOUNTY_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bounty.db'}",
            "BOUNTY_STORAGE_DIR": f"{tmp}/artifacts",
            "BOUNTY_MAX_UPLOAD_BYTES": str(1 << 30),
        }
        command = [sys.executable, "-m", "app.cli", "demo", "--port", str(port)]
        with serve(command, port, env, Path(tmp) / "demo.log") as server:
            base = server.api
            with httpx.Client(base_url=base, timeout=60) as api:
                slug, researcher, train = _setup_round(api, args.rows)
                models = {rule: _tree_h(train, rule) for rule in GROUPS}
                first = _submit_and_wait(api, researcher, slug, GROUPS[0], models[GROUPS[0]])
                times, outcomes = [], [(first[1]["verdict"] or {}).get("outcome")]
                for i in range(args.submissions):
                    rule = GROUPS[i % len(GROUPS)]
                    seconds, verdict = _submit_and_wait(api, researcher, slug, rule, models[rule])
                    times.append(seconds)
                    outcomes.append((verdict["verdict"] or {}).get("outcome"))
            engine = [_engine_alone(train, rule, models[rule]) for rule in GROUPS * 3]
            q = statistics.quantiles(times, n=20)
            p50, p95 = statistics.median(times), q[18]
            print(f"holdout rows {int(args.rows * 0.4)}; verdicts (first is a warm-up): {outcomes}")
            print(
                f"submit-to-verdict      p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   "
                f"min {min(times) * 1000:.0f} ms   max {max(times) * 1000:.0f} ms"
            )
            baseline = statistics.median(engine)
            print(
                f"baseline: engine alone, load h and run the pair on {len(train)} train rows in "
                f"process: p50 {baseline * 1000:.0f} ms; submit-to-verdict p50 = "
                f"{p50 / baseline:.1f} x that (the worker runs the pair on holdout, train and "
                "test, 2.5 x the rows)"
            )


if __name__ == "__main__":
    main()
