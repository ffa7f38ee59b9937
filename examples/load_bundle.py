"""Load a round's exported model with the client package alone, and predict with it.

Run: ``uv run python examples/load_bundle.py planted-model.zip examples/planted.csv``
"""

from __future__ import annotations

import sys

import pandas as pd

from bounty_client import load_bundle

model = load_bundle(sys.argv[1])  # checks every file's checksum; never unpickles anything
rows = pd.read_csv(sys.argv[2]).head(5)  # raw rows: extra columns (the label) are ignored
print("predictions:", model.predict(rows).tolist())  # scikit-learn's predict
print("model version:", model.model.head_version, "from", model.metadata.get("round"))
