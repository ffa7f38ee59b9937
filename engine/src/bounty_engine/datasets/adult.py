"""The UCI Adult (Census Income) data, shipped as a compressed CSV with the package.

48,842 rows: the original ``adult.data`` rows followed by the ``adult.test`` rows. Missing values
(``?`` in the original) are empty cells, read back as NaN. The label ``income`` is ``<=50K`` or
``>50K``. Attribution and licence (CC BY 4.0): ``data/ADULT-SOURCE.md``.

Rebuild the shipped copy from the original files with::

    python -m bounty_engine.datasets.adult --build /work/shared/datasets/adult
"""

from __future__ import annotations

import argparse
import gzip
from importlib import resources
from pathlib import Path
from typing import Final

import pandas as pd

from bounty_engine.data import read_table

ADULT_LABEL: Final = "income"
ADULT_COLUMNS: Final = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    ADULT_LABEL,
)
ADULT_ROWS: Final = 48_842
ADULT_CLASSES: Final = ("<=50K", ">50K")
_NUMERIC_COLUMNS: Final = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_DATA_FILE: Final = "adult.csv.gz"
ADULT_PATH: Final = Path(__file__).parent / "data" / _DATA_FILE
"""The shipped compressed copy (for tools that take a file, like a dataset upload)."""
_SOURCE_FILES: Final = ("adult.data", "adult.test")


def load_adult() -> pd.DataFrame:
    """The Adult table (48,842 rows, columns ``ADULT_COLUMNS``, label ``income``)."""
    data = resources.files(__package__).joinpath("data", _DATA_FILE).read_bytes()
    return read_table(data, format="csv")


def _parse_source(path: Path) -> list[list[str]]:
    """Data rows of an original Adult file, skipping comments (``|``), headers and blank lines."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("|"):
            continue
        fields = [field.strip() for field in line.split(",")]
        if fields[0] == "age":
            continue
        if len(fields) != len(ADULT_COLUMNS):
            raise ValueError(f"{path}:{number}: expected {len(ADULT_COLUMNS)} fields")
        rows.append(fields)
    return rows


def build_adult_frame(source_dir: Path) -> pd.DataFrame:
    """Combine the original ``adult.data`` and ``adult.test`` into one clean frame."""
    rows = [row for name in _SOURCE_FILES for row in _parse_source(source_dir / name)]
    frame = pd.DataFrame(rows, columns=list(ADULT_COLUMNS))
    frame = frame.mask(frame == "?")
    frame[ADULT_LABEL] = frame[ADULT_LABEL].str.rstrip(".")
    for column in _NUMERIC_COLUMNS:
        frame[column] = frame[column].astype("int64")
    labels = set(frame[ADULT_LABEL].unique())
    if labels != set(ADULT_CLASSES):
        raise ValueError(f"unexpected labels: {sorted(labels)}")
    return frame


def write_adult_csv(frame: pd.DataFrame, target: Path) -> None:
    """Write ``frame`` as reproducible gzip (level 9, no timestamp or file name) CSV."""
    text = frame.to_csv(index=False, lineterminator="\n")
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as out,
    ):
        out.write(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--build SOURCE_DIR [--out FILE]``."""
    parser = argparse.ArgumentParser(description="Build the shipped copy of the Adult data.")
    parser.add_argument("--build", type=Path, required=True, metavar="SOURCE_DIR")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / _DATA_FILE)
    args = parser.parse_args(argv)
    frame = build_adult_frame(args.build)
    write_adult_csv(frame, args.out)
    print(f"wrote {len(frame)} rows to {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
