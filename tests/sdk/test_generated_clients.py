"""Third-party generators take the running server's OpenAPI document as is: openapi-python-client
and openapi-typescript generate clients without a single warning, and the generated Python
client, untouched, runs a whole round (the organizer creates, fills and opens it; a participant
signs up, joins, submits a pair and reads its verdict and the leaderboard; the organizer closes
the round and exports its model)."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pandas as pd
import pytest

from app.seed import DEMO_ORGANIZER
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from bounty_engine.schema import FeatureSchema
from tests.support.servers import DemoServer

ROOT = Path(__file__).parents[2]
VENV_BIN = Path(sys.executable).parent
PACKAGE = "generated_bounty_api"  # the generated client's package, imported from a temp dir


def _generator_output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def document(server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OpenAPI document as the running server serves it."""
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_bytes(httpx.get(f"{server.url}/openapi.json").content)
    return path


@pytest.fixture(scope="module")
def generated(document: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The Python client openapi-python-client generates from it, imported as is."""
    out = tmp_path_factory.mktemp("generated")
    result = subprocess.run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(out / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # The generator formats its output with ruff, which it looks for on PATH.
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    output = _generator_output(result)
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "unsupported" not in output.lower(), output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_openapi_typescript_generates_types_without_a_warning(
    document: Path, tmp_path: Path
) -> None:
    cli = ROOT / "frontend" / "node_modules" / ".bin" / "openapi-typescript"
    result = subprocess.run(
        [str(cli), str(document), "--output", str(tmp_path / "schema.d.ts")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = _generator_output(result)
    assert result.returncode == 0, output
    assert "warn" not in output.lower(), output
    assert "submit" in (tmp_path / "schema.d.ts").read_text()


def _api(generated: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _ok(response: Any, status: int) -> Any:
    """The parsed body of a generated client's detailed response, after checking its status."""
    assert response.status_code == status, response.content
    return response.parsed


def _key_for(generated: ModuleType, url: str, email: str, password: str) -> str:
    """Sign in and create an API key, through the generated client."""
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = generated.Client(base_url=url)
    token = _ok(
        _api(generated, "accounts.sign_in").sync_detailed(
            client=anonymous, body=models.BodySignIn(username=email, password=password)
        ),
        200,
    ).access_token
    signed_in = generated.AuthenticatedClient(base_url=url, token=token)
    created = _api(generated, "accounts.create_api_key").sync_detailed(
        client=signed_in, body=models.ApiKeyCreate(name="generated client")
    )
    return str(_ok(created, 201).key)


def test_a_whole_round_through_the_generated_client(
    generated: ModuleType, server: DemoServer, tmp_path: Path
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")

    organizer = generated.AuthenticatedClient(
        base_url=server.url, token=_key_for(generated, server.url, *DEMO_ORGANIZER)
    )

    # The organizer creates a round, uploads its data, trains the default base model, opens it.
    rounds = "rounds"
    created = _api(generated, f"{rounds}.create_round").sync_detailed(
        client=organizer,
        body=models.RoundCreate(
            title="Generated client round",
            min_group_rows=20,
            acceptance_test=models.AcceptanceTest.THRESHOLD,
        ),
    )
    slug = _ok(created, 201).slug
    data = make_synthetic(4000, seed=3)
    csv = tmp_path / "planted.csv"
    data.frame.to_csv(csv, index=False)
    uploaded = _api(generated, f"{rounds}.upload_dataset").sync_detailed(
        slug,
        client=organizer,
        body=models.BodyUploadDataset(
            label=data.label,
            file=types.File(payload=csv.open("rb"), file_name="planted.csv"),
        ),
    )
    assert _ok(uploaded, 200).data.n_train > 0
    _ok(_api(generated, f"{rounds}.train_base_model").sync_detailed(slug, client=organizer), 200)
    assert (
        _ok(
            _api(generated, f"{rounds}.open_round").sync_detailed(slug, client=organizer), 200
        ).status
        == "open"
    )

    # A participant signs up, forms a team and submits a pair that fixes a planted group.
    email, password = "generated@example.org", "a long enough password"
    signed_up = _api(generated, "accounts.sign_up").sync_detailed(
        client=generated.Client(base_url=server.url),
        body=models.SignUp(email=email, display_name="Generated", password=password),
    )
    _ok(signed_up, 201)
    participant = generated.AuthenticatedClient(
        base_url=server.url,
        token=_key_for(generated, server.url, email, password),
        timeout=httpx.Timeout(120.0),  # the event stream below lasts until the verdict
    )
    team = _api(generated, "teams.create_team").sync_detailed(
        slug, client=participant, body=models.TeamCreate(name="Generated")
    )
    _ok(team, 201)
    schema = FeatureSchema.model_validate(
        _ok(
            _api(generated, f"{rounds}.get_schema").sync_detailed(slug, client=participant), 200
        ).to_dict()
    )
    train_csv = _api(generated, f"{rounds}.download_train_csv").sync_detailed(
        slug, client=participant
    )
    assert train_csv.status_code == 200
    train = pd.read_csv(io.StringIO(train_csv.content.decode()))
    rule = data.planted[0].expression
    mask = RuleGroup.parse(rule, schema).mask(prepare_features(train, schema))
    h = dump_sklearn_model(train_patch_model(train, schema, mask))
    submitted = _api(generated, "submissions.submit").sync_detailed(
        slug,
        client=participant,
        body=models.BodySubmit(
            model=types.File(payload=io.BytesIO(h), file_name="h.skops"),
            group_expression=rule,
        ),
    )
    submission_id = _ok(submitted, 202).submission.id

    # The event stream ends with the verdict: read whole, it is the wait.
    events = _api(generated, "submissions.submission_events").sync_detailed(
        submission_id, client=participant
    )
    assert events.status_code == 200
    assert '"status": "decided"' in events.content.decode()
    submission = _ok(
        _api(generated, "submissions.get_submission").sync_detailed(
            submission_id, client=participant
        ),
        200,
    )
    assert submission.status == "decided"
    assert submission.verdict.outcome == "accepted", submission.verdict.message
    board = _ok(
        _api(generated, "leaderboard.leaderboard").sync_detailed(slug, client=participant), 200
    )
    assert [(e.team, e.rank, e.accepted) for e in board.entries] == [("Generated", 1, 1)]

    # The organizer closes the round and exports its model.
    assert (
        _ok(
            _api(generated, f"{rounds}.close_round").sync_detailed(slug, client=organizer), 200
        ).status
        == "closed"
    )
    exported = _api(generated, "leaderboard.export").sync_detailed(slug, client=organizer)
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        assert "manifest.json" in bundle.namelist()
