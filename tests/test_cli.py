"""The ``bounty`` command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app import __version__
from app.cli import cli
from bounty_engine.bundle import load_bundle

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(cli, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_demo_runs_and_exports_a_bundle_that_reloads(tmp_path: Path) -> None:
    target = tmp_path / "model.zip"
    result = runner.invoke(cli, ["engine-demo", "--bundle", str(target)])
    assert result.exit_code == 0, result.output
    assert "census-sleuths" in result.stdout
    assert "matches cached predictions: True" in result.stdout
    bundle = load_bundle(target)
    assert bundle.metadata == {"round": "demo-adult"}
    assert bundle.model.head_version >= 1
