"""The examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bounty_engine.models import ModelFormat, load_model

ROOT = Path(__file__).resolve().parents[1]


def test_check_a_pair_example(tmp_path: Path) -> None:
    out = tmp_path / "h.skops"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "check_a_pair.py"),
            "--rule",
            "capital_gain > 0",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert "verdict on the training split: accepted (accepted)" in result.stdout
    assert load_model(out).format is ModelFormat.SKOPS
