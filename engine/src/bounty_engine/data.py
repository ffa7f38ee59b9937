"""Reading tables, inferring their schema, preparing model inputs and splitting rows.

Conventions shared by every function here:

* In string cells, surrounding whitespace is stripped and the markers in ``MISSING_MARKERS``
  (the empty string and ``?``) mean a missing value, in CSV and Parquet alike.
* A column whose non-missing values are all numbers (even if stored as text) is numeric;
  booleans are numeric 0/1. Other text columns are categorical.
* ``prepare_features`` produces the one frame layout that every model and group rule receives.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import itertools
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bounty_engine.errors import DataError
from bounty_engine.schema import Feature, FeatureKind, FeatureSchema, LabelInfo, LabelValue, Task

TableFormat = Literal["csv", "parquet"]

MISSING_MARKERS: Final[tuple[str, ...]] = ("", "?")
"""String cells (after stripping whitespace) that mean "missing"."""

MAX_CLASSES: Final = 1000
"""Most classes a classification label may have."""

MAX_CLASSIFICATION_INT_VALUES: Final = 20
"""An integer label with at most this many distinct values is inferred as classification."""

_PARQUET_MAGIC: Final = b"PAR1"
_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZIP_MAGIC: Final = b"PK\x03\x04"
_SNIFF_BYTES: Final = 64 * 1024
_CSV_SUFFIXES: Final = frozenset({".csv", ".txt"})
_PARQUET_SUFFIXES: Final = frozenset({".parquet", ".pq", ".parq"})
_NUMERIC_TYPES: Final = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
_TEXT_TYPES: Final = frozenset({"string", "mixed", "mixed-integer"})


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Input:
    """A table source: a path on disk or bytes in memory, possibly gzip-compressed."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @contextmanager
    def open_raw(self) -> Iterator[BinaryIO]:
        if self.path is None:
            yield io.BytesIO(self.data or b"")
            return
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise DataError(f"cannot read {self.name}: {exc.strerror or exc}") from exc
        with handle:
            yield handle

    def head(self, size: int) -> bytes:
        with self.open_raw() as handle:
            return handle.read(size)

    @property
    def gzipped(self) -> bool:
        return self.head(2) == _GZIP_MAGIC

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The content, decompressed if gzipped."""
        gzipped = self.gzipped
        with self.open_raw() as raw:
            if gzipped:
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield cast(BinaryIO, unzipped)
            else:
                yield raw

    def sample(self) -> bytes:
        """The first bytes of the (decompressed) content."""
        try:
            with self.open() as handle:
                return handle.read(_SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise DataError(f"{self.name} is a corrupt gzip file: {exc}") from exc


def _as_input(source: str | os.PathLike[str] | bytes | BinaryIO) -> _Input:
    if isinstance(source, bytes | bytearray | memoryview):
        return _Input(name="the uploaded data", data=bytes(source))
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"no such file: {path}")
        return _Input(name=f"file '{path.name}'", path=path)
    content = source.read()
    if not isinstance(content, bytes):
        raise DataError("the data stream must be opened in binary mode")
    name = getattr(source, "name", None)
    label = f"file '{Path(name).name}'" if isinstance(name, str) else "the uploaded data"
    return _Input(name=label, data=content)


def _suffix_format(inp: _Input) -> TableFormat | None:
    if inp.path is None:
        return None
    suffixes = [s.lower() for s in inp.path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if not suffixes:
        return None
    if suffixes[-1] in _CSV_SUFFIXES:
        return "csv"
    if suffixes[-1] in _PARQUET_SUFFIXES:
        return "parquet"
    return None


def _describe_binary(sample: bytes) -> str | None:
    """Why ``sample`` is not CSV text, or None if it looks like text."""
    if sample.startswith(_PARQUET_MAGIC):
        return "it is a Parquet file"
    if sample.startswith(_ZIP_MAGIC):
        return "it is a ZIP archive (an Excel .xlsx workbook?); export the sheet as CSV"
    if b"\x00" in sample:
        return "it is a binary file"
    try:
        # final=False: the sample may end in the middle of a multi-byte character
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "it is not UTF-8 text; save it as a UTF-8 CSV"
    return None


def _resolve_format(inp: _Input, format: str | None, sample: bytes) -> TableFormat:
    if format is not None and format not in ("csv", "parquet"):
        raise DataError(f"unknown table format {format!r}: use 'csv' or 'parquet'")
    chosen = format or _suffix_format(inp)
    if chosen == "parquet" or (chosen is None and sample.startswith(_PARQUET_MAGIC)):
        if not sample.startswith(_PARQUET_MAGIC):
            raise DataError(f"{inp.name} is not a Parquet file (it does not start with 'PAR1')")
        return "parquet"
    problem = _describe_binary(sample)
    if problem is not None:
        raise DataError(f"{inp.name} is not a CSV or Parquet table: {problem}")
    return "csv"


def read_table(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    format: TableFormat | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet table into a frame with a fresh ``RangeIndex``.

    The format is ``format`` if given, else the file suffix (``.csv``, ``.txt``, ``.parquet``,
    ``.pq``; a trailing ``.gz`` is allowed), else sniffed from the content (Parquet starts with
    ``PAR1``; other UTF-8 text is CSV). Gzip-compressed CSV is decompressed transparently.
    CSV must be comma-separated with a header line. Column names and string cells are stripped
    of surrounding whitespace; empty cells and ``?`` are missing values; text columns whose
    values are all numbers become numeric. Raises ``DataError`` for empty tables, a missing
    header, duplicate or empty column names, and unreadable, corrupt or non-table files.
    """
    inp = _as_input(source)
    sample = inp.sample()
    if not sample:
        raise DataError(f"{inp.name} is empty")
    if _resolve_format(inp, format, sample) == "parquet":
        frame = _read_parquet(inp)
    else:
        frame = _read_csv(inp)
    if len(frame) == 0:
        raise DataError(f"{inp.name} has column names but no data rows")
    return _clean_frame(frame)


def _read_csv(inp: _Input) -> pd.DataFrame:
    header = _csv_header(inp)
    try:
        with warnings.catch_warnings(), inp.open() as handle:
            # pandas only warns (and drops data) when a row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                handle,
                header=0,
                names=header,
                index_col=False,
                na_values=list(MISSING_MARKERS),
                keep_default_na=False,
                skipinitialspace=True,
                low_memory=False,
                encoding="utf-8-sig",
            )
    except pd.errors.ParserWarning as exc:
        raise DataError(
            f"{inp.name}: a data row has more fields than the header ({len(header)} columns)"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise DataError(f"{inp.name} is not a readable CSV file: {exc}") from exc
    return frame


def _csv_header(inp: _Input) -> list[str]:
    """The stripped column names of the first non-blank CSV line, validated."""
    try:
        with inp.open() as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            row = next((r for r in csv.reader(text) if any(c.strip() for c in r)), None)
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
        raise DataError(f"{inp.name} is not a readable CSV file: {exc}") from exc
    if row is None:
        raise DataError(f"{inp.name} is empty (no header line and no rows)")
    names = [cell.strip() for cell in row]
    if len(names) == 1:
        separator = next((sep for sep in ";\t|" if sep in names[0]), None)
        if separator is not None:
            raise DataError(
                f"{inp.name} seems to use {separator!r} between fields; CSV files must be "
                "comma-separated"
            )
    _check_names(inp.name, names)
    numeric = [n for n in names if _is_number(n)]
    if numeric:
        raise DataError(
            f"{inp.name} has no header line: its first line looks like data "
            f"(column name {numeric[0]!r} is a number). Add a first line with the column names."
        )
    return names


def _read_parquet(inp: _Input) -> pd.DataFrame:
    try:
        with inp.open_raw() as handle:
            parquet = pq.ParquetFile(handle)
            names = [n for n in parquet.schema_arrow.names if not n.startswith("__index_level_")]
            _check_names(inp.name, [n.strip() for n in names])
            frame: pd.DataFrame = parquet.read().to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{inp.name} is not a readable Parquet file: {exc}") from exc
    # a pandas index saved in the file comes back as the index: keep named levels as columns
    frame = frame.reset_index(drop=all(n is None for n in frame.index.names))
    frame.columns = pd.Index([str(c).strip() for c in frame.columns])
    return frame


def _check_names(source: str, names: Sequence[str]) -> None:
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        raise DataError(
            f"column {empty[0]} of {source} has no name (every column needs a header; "
            "if it is a saved row index, export without the index)"
        )
    dupes = [n for n, count in Counter(names).items() if count > 1]
    if dupes:
        listed = ", ".join(repr(n) for n in dupes)
        raise DataError(f"{source} has duplicate column names: {listed}; names must be unique")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip string cells, turn missing markers into NaN, and make all-number text numeric."""
    cleaned: dict[str, pd.Series] = {}
    for name in frame.columns:
        column = frame[name]
        if _is_text_like(column):
            column = _text_cells(column)
            n_present, n_numbers, _ = _count_numbers(column)
            if n_present and n_numbers == n_present:
                column = pd.to_numeric(column)
        cleaned[str(name)] = column
    return pd.DataFrame(cleaned, index=frame.index)


def _is_text_like(series: pd.Series) -> bool:
    dtype = series.dtype
    return bool(
        pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _text_cells(series: pd.Series) -> pd.Series:
    """``series`` as stripped strings (``str`` dtype), with missing markers as NaN."""
    text = series.astype("str").str.strip()
    return text.mask(text.isin(MISSING_MARKERS))


# --------------------------------------------------------------------------- schema


def infer_schema(
    frame: pd.DataFrame,
    label: str,
    *,
    task: Task | None = None,
    max_categories: int = 1000,
) -> FeatureSchema:
    """Infer the feature schema of ``frame`` with ``label`` as the label column.

    Every other column is a feature: numeric (numbers, booleans as 0/1, text that is all
    numbers) with min/max, or categorical (text) with its sorted categories. When ``task`` is
    None it is classification for a text or boolean label or an integer label with at most 20
    distinct values, else regression. Classes are sorted and keep their Python type (booleans
    become 0/1). Raises ``DataError`` naming the problem column for: a missing label (with
    suggestions), missing or constant label values, mixed numbers and text, unsupported types,
    all-missing or infinite features, too many categories or classes, and no features at all.
    """
    names = _column_names(frame)
    if label not in names:
        raise DataError(_label_not_found(label, names))
    label_info = _infer_label(label, frame[label], task)
    features = [_infer_feature(n, frame[n], max_categories) for n in names if n != label]
    if not features:
        raise DataError(f"the table has no feature columns besides the label {label!r}")
    return FeatureSchema(features=features, label=label_info)


def _column_names(frame: pd.DataFrame) -> list[str]:
    names = list(frame.columns)
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise DataError(f"column names must be non-empty strings; got {bad[0]!r}")
    str_names = [str(n) for n in names]
    _check_names("the table", str_names)
    return str_names


def _label_not_found(label: str, names: list[str]) -> str:
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(label.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = ""
    if close:
        hint = " Did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"
    shown = ", ".join(repr(n) for n in names[:30]) + (", ..." if len(names) > 30 else "")
    return f"label column {label!r} not found.{hint} The columns are: {shown}"


def _typed_values(name: str, series: pd.Series) -> pd.Series:
    """``series`` as numbers (numeric, bool as 0/1) or as stripped strings (``str`` dtype)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype("Int64").astype("float64") if series.hasnans else series.astype(int)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return series
    if not _is_text_like(series):
        raise DataError(_unsupported(name, str(dtype)))
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return series.map(lambda v: v if pd.isna(v) else int(v)).astype("float64")
    if inferred in _NUMERIC_TYPES:
        return pd.to_numeric(series, errors="raise")
    if inferred not in _TEXT_TYPES and inferred != "empty":
        raise DataError(_unsupported(name, inferred))
    return _numbers_or_text(name, _text_cells(series))


def _unsupported(name: str, kind: str) -> str:
    return (
        f"column {name!r} has values of type {kind}, which is not supported: "
        "convert it to numbers (e.g. a year) or to text, or drop it"
    )


def _numbers_or_text(name: str, text: pd.Series) -> pd.Series:
    """All-number text becomes numeric; mostly-number text with stray words is an error."""
    n_present, n_parsed, offending = _count_numbers(text)
    if n_present and n_parsed == n_present:
        return pd.to_numeric(text)
    if n_parsed * 2 > n_present:
        shown = ", ".join(repr(v) for v in offending)
        raise DataError(
            f"column {name!r} mixes numbers and text: {n_parsed} of {n_present} values are "
            f"numbers, but not {shown}. Fix or remove those values (leave missing values empty "
            "or write '?'), or make the whole column text."
        )
    return text


def _count_numbers(text: pd.Series) -> tuple[int, int, list[str]]:
    """Non-missing values, how many are numbers, and the (up to 3) most common non-numbers."""
    # parsing each distinct value once is much faster than parsing every cell
    counts = text.value_counts(dropna=True)
    distinct = pd.Series(counts.index, dtype=object)
    is_number = pd.to_numeric(distinct, errors="coerce").notna().to_numpy()
    n_numbers = int(counts.to_numpy()[is_number].sum())
    offending = [str(v) for v in distinct[~is_number][:3]]
    return int(counts.sum()), n_numbers, offending


def _infer_feature(name: str, series: pd.Series, max_categories: int) -> Feature:
    values = _typed_values(name, series)
    missing = int(values.isna().sum())
    if missing == len(values):
        raise DataError(f"column {name!r} has no values (all are missing); drop it")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(numbers).any():
            raise DataError(f"column {name!r} has infinite values; replace or remove them")
        return Feature(
            name=name,
            kind=FeatureKind.NUMERIC,
            min=float(np.nanmin(numbers)),
            max=float(np.nanmax(numbers)),
            missing=missing,
        )
    categories = sorted(str(v) for v in values.dropna().unique())
    if len(categories) > max_categories:
        raise DataError(
            f"column {name!r} has {len(categories)} distinct text values (more than "
            f"{max_categories}); it looks like an identifier or free text: drop it"
        )
    return Feature(name=name, kind=FeatureKind.CATEGORICAL, categories=categories, missing=missing)


def _infer_label(name: str, series: pd.Series, task: Task | None) -> LabelInfo:
    values = _typed_values(name, series)
    missing = int(values.isna().sum())
    if missing:
        raise DataError(
            f"label column {name!r} has {missing} missing value{'s' if missing != 1 else ''}; "
            "remove those rows"
        )
    distinct = values.unique()
    if len(distinct) < 2:
        raise DataError(
            f"label column {name!r} has a single value ({distinct[0]!r}): nothing to predict"
        )
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    if task is None:
        integer = pd.api.types.is_integer_dtype(values.dtype)
        small = len(distinct) <= MAX_CLASSIFICATION_INT_VALUES
        task = Task.CLASSIFICATION if not numeric or (integer and small) else Task.REGRESSION
    if task is Task.REGRESSION:
        if not numeric:
            raise DataError(f"label column {name!r} has text values; regression needs numbers")
        if np.isinf(values.to_numpy(dtype="float64")).any():
            raise DataError(f"label column {name!r} has infinite values")
        return LabelInfo(name=name, task=task)
    if len(distinct) > MAX_CLASSES:
        raise DataError(
            f"label column {name!r} has {len(distinct)} classes (at most {MAX_CLASSES} "
            "are allowed); is it a regression target?"
        )
    classes: list[LabelValue] = sorted(pd.Series(distinct).tolist())
    return LabelInfo(name=name, task=task, classes=classes)


# --------------------------------------------------------------------------- model inputs


def prepare_features(frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    """The model input: the schema's feature columns, in schema order, with ``frame``'s index.

    Numeric features are float64 (booleans 0/1, numeric text parsed); categorical features are
    stripped strings (pandas ``str`` dtype) with missing values as NaN. Other columns, the
    label included, are dropped. ``DataError`` names missing columns and unconvertible values.
    """
    absent = [n for n in schema.feature_names if n not in frame.columns]
    if absent:
        raise DataError("missing feature columns: " + ", ".join(repr(n) for n in absent))
    columns: dict[str, pd.Series] = {}
    for feature in schema.features:
        series = frame[feature.name]
        if isinstance(series, pd.DataFrame):
            raise DataError(f"column {feature.name!r} appears more than once")
        if feature.kind is FeatureKind.NUMERIC:
            columns[feature.name] = _numeric_column(feature.name, series)
        else:
            columns[feature.name] = _categorical_column(series)
    return pd.DataFrame(columns, index=frame.index)


def _numeric_column(name: str, series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(numbers, index=series.index, name=name)
    if not _is_text_like(series):
        raise DataError(f"column {name!r} should be numeric but has type {dtype}")
    if pd.api.types.infer_dtype(series, skipna=True) == "boolean":
        series = series.map(lambda v: v if pd.isna(v) else int(v))
    text = _text_cells(series)
    parsed = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & parsed.isna()
    if bad.any():
        shown = ", ".join(repr(v) for v in pd.unique(text[bad])[:3])
        raise DataError(f"column {name!r} should be numeric but has values that are not: {shown}")
    return parsed.astype("float64")


def _categorical_column(series: pd.Series) -> pd.Series:
    return _text_cells(series)


def label_values(frame: pd.DataFrame, schema: FeatureSchema) -> np.ndarray:
    """The label column as a numpy array of the schema's class type.

    Text classes give an object array of ``str``; integer classes (and booleans) an int64
    array; float classes and regression labels a float64 array. ``DataError`` if the column is
    absent, has missing values, or (classification) has values outside the schema's classes.
    """
    info = schema.label
    if info.name not in frame.columns:
        raise DataError(f"label column {info.name!r} is missing")
    values = _typed_values(info.name, frame[info.name])
    missing = int(values.isna().sum())
    if missing:
        raise DataError(f"label column {info.name!r} has {missing} missing values")
    if info.task is Task.REGRESSION or not info.classes:
        return _label_numbers(info.name, values, "float64")
    if isinstance(info.classes[0], str):
        result = values.astype("str").to_numpy(dtype=object)
    elif isinstance(info.classes[0], int):
        result = _label_numbers(info.name, values, "int64")
    else:
        result = _label_numbers(info.name, values, "float64")
    unknown = pd.unique(result[~np.isin(result, np.asarray(info.classes, dtype=result.dtype))])
    if len(unknown):
        shown = ", ".join(repr(v) for v in unknown[:3])
        raise DataError(f"label column {info.name!r} has values outside the classes: {shown}")
    return result


def _label_numbers(name: str, values: pd.Series, dtype: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values.dtype):
        raise DataError(f"label column {name!r} should be numeric but has text values")
    numbers = values.to_numpy(dtype="float64")
    if dtype == "int64":
        if not np.array_equal(numbers, np.round(numbers)):
            raise DataError(f"label column {name!r} should hold whole numbers")
        return numbers.astype("int64")
    return numbers


# --------------------------------------------------------------------------- splitting


@dataclass(frozen=True)
class Split:
    """The three row splits of a round's table."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    test: pd.DataFrame


def split_frame(
    frame: pd.DataFrame,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> Split:
    """Split rows at random into train, holdout and test (not stratified).

    Deterministic on every machine: rows are assigned by ``numpy.random.default_rng(seed)
    .permutation``. Split sizes are within one row of ``fraction * len(frame)`` (largest
    remainders get the leftover rows) and a zero fraction gives an empty split. Each split keeps
    the original row order and index labels. Fractions must be non-negative and sum to 1, with
    train and holdout positive; a split with a positive fraction may not end up empty.
    """
    if seed < 0:
        raise DataError(f"the split seed must be a non-negative integer, got {seed}")
    counts = _split_counts(len(frame), fractions)
    order = np.random.default_rng(seed).permutation(len(frame))
    bounds = np.cumsum([0, *counts])
    parts = [frame.iloc[np.sort(order[a:b])] for a, b in itertools.pairwise(bounds)]
    return Split(train=parts[0], holdout=parts[1], test=parts[2])


def _split_counts(n_rows: int, fractions: tuple[float, float, float]) -> list[int]:
    if len(fractions) != 3 or not all(np.isfinite(f) and f >= 0 for f in fractions):
        raise DataError(f"split fractions must be three non-negative numbers, got {fractions}")
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise DataError(f"split fractions must sum to 1, got {fractions} (sum {sum(fractions)})")
    if fractions[0] <= 0 or fractions[1] <= 0:
        raise DataError("the train and holdout fractions must be positive")
    exact = [f * n_rows for f in fractions]
    counts = [int(np.floor(x)) for x in exact]
    by_remainder = sorted(range(3), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: n_rows - sum(counts)]:
        counts[i] += 1
    for name, fraction, count in zip(("train", "holdout", "test"), fractions, counts, strict=True):
        if fraction > 0 and count == 0:
            raise DataError(
                f"too few rows to split: {n_rows} rows with fractions {fractions} "
                f"leave the {name} split empty"
            )
    return counts
