"""The web app's API types are generated from the API as it is now (`make api-types`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"


def test_the_committed_openapi_document_is_the_apis(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    result = CliRunner().invoke(cli, ["openapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    committed = json.loads((FRONTEND / "openapi.json").read_text())
    assert committed == json.loads(out.read_text()), "run `make api-types` and commit the result"


def test_the_typescript_types_are_generated_from_that_document(tmp_path: Path) -> None:
    generator = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
    assert generator.exists(), "run `npm ci --prefix frontend` (the bootstrap does)"
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(generator), str(FRONTEND / "openapi.json"), "-o", str(out)],
        check=True,
        capture_output=True,
        cwd=FRONTEND,
        env={"PATH": str(Path(shutil.which("node") or "node").parent)},
    )
    committed = (FRONTEND / "src" / "api" / "schema.d.ts").read_text()
    assert committed == out.read_text(), "run `make api-types` and commit the result"


def test_the_python_clients_models_are_generated_from_that_document(tmp_path: Path) -> None:
    out = tmp_path / "models.py"
    subprocess.run([str(ROOT / "scripts" / "client-models"), str(out)], check=True, cwd=ROOT)
    committed = ROOT / "clients" / "python" / "src" / "bounty_client" / "models.py"
    assert committed.read_text() == out.read_text(), "run `make api-types` and commit the result"
