"""Loading participant models: round trips, refusals of unsafe files, ONNX input mapping."""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import io
import json
import lzma
import os
import pickle
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.datasets
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from bounty_engine.errors import ModelLoadError, PredictionError
from bounty_engine.models import (
    LoadedModel,
    ModelFormat,
    dump_sklearn_model,
    load_model,
    skops_archive,
    sniff_format,
)
from bounty_engine.predictions import encode_predictions
from bounty_engine.schema import LabelInfo, Task

FEATURES = ["age", "sex", "hours"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["Female", "Male"], n),
            "hours": rng.uniform(1, 60, n).round(1),
        }
    )


@pytest.fixture(scope="module")
def income(frame: pd.DataFrame) -> np.ndarray:
    return np.where(frame["age"] + 10 * (frame["sex"] == "Female") > 50, ">50K", "<=50K")


@pytest.fixture(scope="module")
def logistic(frame: pd.DataFrame, income: np.ndarray) -> Pipeline:
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
            ("num", StandardScaler(), ["age", "hours"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(frame, income)


class CustomModel:
    """A participant-defined class: never loadable, whatever it does."""

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(rows))


def _load_error(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(ModelLoadError) as info:
        load_model(data, **kwargs)
    return str(info.value)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["age", "hours"]]


# --- scikit-learn models round-trip through skops -------------------------------------------


def _three_classes(frame: pd.DataFrame) -> np.ndarray:
    labels: np.ndarray = np.asarray(["a", "b", "c"])[frame["age"].to_numpy() % 3]
    return labels


ROUND_TRIPS: dict[str, Callable[[pd.DataFrame, np.ndarray], tuple[Any, pd.DataFrame]]] = {
    "hist_gradient_boosting": lambda f, y: (
        HistGradientBoostingClassifier(max_iter=10).fit(_numeric(f), y),
        _numeric(f),
    ),
    "hist_gradient_boosting_categorical": lambda f, y: (
        make_pipeline(
            ColumnTransformer(
                [("cat", OrdinalEncoder(), ["sex"]), ("num", "passthrough", ["age", "hours"])]
            ),
            HistGradientBoostingClassifier(max_iter=10, categorical_features=[0]),
        ).fit(f, y),
        f,
    ),
    "decision_tree_regressor": lambda f, y: (
        DecisionTreeRegressor(max_depth=4).fit(_numeric(f), f["hours"] * 2),
        _numeric(f),
    ),
    "log1p_function_transformer": lambda f, y: (
        make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(_numeric(f), y),
        _numeric(f),
    ),
    "random_forest": lambda f, y: (
        RandomForestClassifier(n_estimators=5, random_state=0).fit(_numeric(f), y),
        _numeric(f),
    ),
    "gradient_boosting_multiclass": lambda f, y: (
        GradientBoostingClassifier(n_estimators=5).fit(_numeric(f), _three_classes(f)),
        _numeric(f),
    ),
    "bagging_on_feature_subsets": lambda f, y: (
        BaggingClassifier(DecisionTreeClassifier(), n_estimators=4, max_features=1).fit(
            _numeric(f), y
        ),
        _numeric(f),
    ),
    # The final tree reads 6 stacked columns although the input has 2.
    "stacking_with_tree_on_top": lambda f, y: (
        StackingClassifier(
            [("tree", DecisionTreeClassifier(max_depth=3)), ("lr", LogisticRegression())],
            final_estimator=DecisionTreeClassifier(),
            cv=2,
        ).fit(_numeric(f), _three_classes(f)),
        _numeric(f),
    ),
}


def test_pipeline_round_trips_and_predicts_identically(
    logistic: Pipeline, frame: pd.DataFrame
) -> None:
    data = dump_sklearn_model(logistic)
    loaded = load_model(data, feature_names=FEATURES)
    assert loaded.format is ModelFormat.SKOPS
    assert loaded.data == data
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    np.testing.assert_array_equal(loaded.predict(frame), logistic.predict(frame))


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_models_round_trip(name: str, frame: pd.DataFrame, income: np.ndarray) -> None:
    model, rows = ROUND_TRIPS[name](frame, income)
    loaded = load_model(dump_sklearn_model(model))
    np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))


def test_load_from_path(logistic: Pipeline, frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(dump_sklearn_model(logistic))
    for source in (path, str(path)):
        np.testing.assert_array_equal(load_model(source).predict(frame), logistic.predict(frame))
    with pytest.raises(ModelLoadError, match="cannot read the model file"):
        load_model(tmp_path / "missing.skops")


def test_parallel_jobs_are_switched_off(frame: pd.DataFrame, income: np.ndarray) -> None:
    forest = RandomForestClassifier(n_estimators=3, n_jobs=-1).fit(_numeric(frame), income)
    loaded = load_model(dump_sklearn_model(make_pipeline(StandardScaler(), forest)))
    pipeline = loaded._runner.__self__  # type: ignore[attr-defined]
    assert pipeline.get_params()["randomforestclassifier__n_jobs"] is None


def test_model_errors_become_short_prediction_errors(
    logistic: Pipeline, frame: pd.DataFrame
) -> None:
    loaded = load_model(dump_sklearn_model(logistic))
    with pytest.raises(PredictionError) as info:
        loaded.predict(frame.drop(columns=["sex"]))
    message = str(info.value)
    assert message.startswith("the model failed while predicting: ValueError: ")
    assert "\n" not in message
    assert "Traceback" not in message


def test_column_predictions_are_squeezed(frame: pd.DataFrame) -> None:
    def two_d(rows: pd.DataFrame) -> np.ndarray:
        return np.ones((len(rows), 1))

    model = LoadedModel(ModelFormat.SKOPS, b"x", two_d)
    assert model.predict(frame).shape == (len(frame),)


def test_columns_the_round_lacks_are_refused_at_load(logistic: Pipeline) -> None:
    message = _load_error(dump_sklearn_model(logistic), feature_names=["age", "hours"])
    assert "trained on columns that the round does not have: 'sex'" in message


def test_model_without_predict_is_refused(frame: pd.DataFrame) -> None:
    message = _load_error(dump_sklearn_model(StandardScaler().fit(_numeric(frame))))
    assert "StandardScaler" in message
    assert "no predict method" in message


# --- files that are not skops or ONNX ---------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_are_refused(protocol: int) -> None:
    message = _load_error(pickle.dumps({"weights": [1.0, 2.0]}, protocol=protocol))
    assert "pickle" in message
    assert "skops.io.dump(model, 'model.skops')" in message


@pytest.mark.parametrize(
    "compress",
    [zlib.compress, gzip.compress, bz2.compress, lzma.compress],
    ids=lambda f: f.__module__,
)
def test_compressed_pickles_are_refused(compress: Callable[[bytes], bytes]) -> None:
    message = _load_error(compress(pickle.dumps({"weights": [1.0, 2.0]})))
    assert "compressed pickle (as written by joblib.dump)" in message


def test_other_compressed_files_are_refused() -> None:
    assert "gzip-compressed file" in _load_error(gzip.compress(b"\x00\x01 not a pickle"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the model file is empty"),
        (b"<!DOCTYPE html>\n<html><body>Sign in</body></html>", "HTML or XML page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n", "Git LFS pointer"),
        (b"age,sex\n30,Male\n", "this is a text file"),
        (np.random.default_rng(1).bytes(4096), "neither a skops file nor an ONNX model"),
    ],
    ids=["empty", "html", "lfs", "text", "random"],
)
def test_non_model_files_are_refused(data: bytes, expected: str) -> None:
    assert expected in _load_error(data)


# --- skops archives ---------------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_sniff_recognises_skops(logistic: Pipeline) -> None:
    assert sniff_format(dump_sklearn_model(logistic)) is ModelFormat.SKOPS


def test_zip_without_schema_is_refused() -> None:
    message = _load_error(_zip({"archive/data.pkl": b"\x80\x04N."}))
    assert "zip archive without schema.json" in message


def test_truncated_zip_is_refused(logistic: Pipeline) -> None:
    data = dump_sklearn_model(logistic)
    assert "corrupted or truncated" in _load_error(data[: len(data) // 2])


def test_corrupted_member_is_refused(logistic: Pipeline) -> None:
    data = bytearray(dump_sklearn_model(logistic))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        member = next(i for i in archive.infolist() if i.filename.endswith(".npy"))
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    data[start + member.compress_size // 2] ^= 0xFF
    assert "the skops file cannot be loaded" in _load_error(bytes(data))


def test_unreadable_schema_is_refused() -> None:
    assert "schema.json is unreadable" in _load_error(_zip({"schema.json": b"{not json"}))


def test_archive_size_caps(logistic: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    data = dump_sklearn_model(logistic)
    monkeypatch.setattr(skops_archive, "MAX_ARCHIVE_MEMBERS", 2)
    assert "at most 2 are allowed" in _load_error(data)
    monkeypatch.undo()
    bomb = _zip({"schema.json": b"{}", "zeros.bin": bytes(4 * 2**20)})
    assert len(bomb) < 2**16
    monkeypatch.setattr(skops_archive, "MAX_ARCHIVE_BYTES", 2**20)
    assert "unpacks to 4 MiB; at most 1 MiB is allowed" in _load_error(bomb)


@pytest.mark.parametrize(
    ("model", "offender", "reason"),
    [
        (CustomModel(), "CustomModel", "only scikit-learn, numpy and scipy types are allowed"),
        (FunctionTransformer(np.load), "'numpy.load'", "reads or writes files"),
        (
            FunctionTransformer(sklearn.datasets.fetch_openml),
            "'sklearn.datasets._openml.fetch_openml'",
            "sklearn.datasets reads or writes files",
        ),
        (FunctionTransformer(np.linalg.norm), "'numpy.linalg.norm'", "not a class"),
        (FunctionTransformer(eval), "'builtins.eval'", "only scikit-learn, numpy and scipy"),
        (FunctionTransformer(os.system), ".system'", "only scikit-learn, numpy and scipy"),
        (
            FunctionTransformer(functools.partial(os.system, "id")),
            ".system'",
            "only scikit-learn, numpy and scipy",
        ),
        # Classes, but ones that open files and URLs (and delete directories when collected).
        (FunctionTransformer(np.lib.npyio.DataSource), "DataSource'", "reads or writes files"),
        (FunctionTransformer(np.memmap), "'numpy.memmap'", "reads or writes files"),
        # Trusted by skops by default, refused by us: input="filename" reads files.
        (make_pipeline(CountVectorizer(), LogisticRegression()), "CountVectorizer'", "files"),
        (
            KNeighborsClassifier(algorithm="kd_tree").fit([[0.0], [1.0]], [0, 1]),
            "'sklearn.neighbors._kd_tree.KDTree'",
            "algorithm='brute'",
        ),
    ],
    ids=[
        "custom_class",
        "numpy_load",
        "fetch_openml",
        "plain_function",
        "builtin_eval",
        "os_system",
        "partial_of_os_system",
        "numpy_datasource_class",
        "numpy_memmap_class",
        "count_vectorizer",
        "kd_tree",
    ],
)
def test_untrusted_types_are_refused_by_name(model: object, offender: str, reason: str) -> None:
    message = _load_error(dump_sklearn_model(model))
    assert message.startswith("the model file uses types that are not allowed: ")
    assert offender in message
    assert reason in message


def test_every_offending_type_is_listed() -> None:
    model = make_pipeline(FunctionTransformer(np.load), FunctionTransformer(np.save))
    message = _load_error(dump_sklearn_model(model))
    assert "'numpy.load'" in message
    assert "'numpy.save'" in message


def test_bound_methods_are_refused(logistic: Pipeline) -> None:
    message = _load_error(dump_sklearn_model(FunctionTransformer(logistic.predict)))
    assert "'sklearn.pipeline.Pipeline.predict'" in message


def test_special_attributes_are_refused(logistic: Pipeline) -> None:
    files = _unzip(dump_sklearn_model(logistic))
    schema = json.loads(files["schema.json"])
    # A numpy array interface on any object lets numpy read memory at a chosen address.
    schema["content"]["content"]["__array_interface__"] = {
        "__class__": "dict",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps({"data": [0, True], "shape": [8], "typestr": "<f8"}),
        "is_json": True,
    }
    files["schema.json"] = json.dumps(schema).encode()
    assert "sets special attributes" in _load_error(_zip(files))


def test_special_attributes_hidden_in_json_are_refused(logistic: Pipeline) -> None:
    files = _unzip(dump_sklearn_model(logistic))
    schema = json.loads(files["schema.json"])
    schema["content"] = {
        "__class__": "dict",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps({"steps": [], "__array_interface__": {}}),
        "is_json": True,
    }
    files["schema.json"] = json.dumps(schema).encode()
    assert "'__array_interface__'" in _load_error(_zip(files))


# --- decision-tree structures are bounds-checked ------------------------------------------------


def _set_node(tree: Any, field: str, value: int) -> None:
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes[field][0] = value
    state["nodes"] = nodes
    tree.__setstate__(state)


@pytest.mark.parametrize(
    ("field", "value"),
    [("left_child", 10**9), ("left_child", 0), ("right_child", -7), ("feature", 2)],
    ids=["child_out_of_range", "child_cycle", "negative_child", "feature_out_of_range"],
)
def test_malformed_decision_trees_are_refused(frame: pd.DataFrame, field: str, value: int) -> None:
    model = DecisionTreeRegressor(max_depth=3).fit(_numeric(frame), frame["hours"])
    _set_node(model.tree_, field, value)
    assert "malformed decision tree" in _load_error(dump_sklearn_model(model))


def test_forest_trees_are_checked_against_the_forest_width(
    frame: pd.DataFrame, income: np.ndarray
) -> None:
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(_numeric(frame), income)
    # The forest passes its input to the trees unchecked: the tree's own width is no defence.
    forest.estimators_[1].n_features_in_ = 10
    _set_node(forest.estimators_[1].tree_, "feature", 5)
    assert "malformed decision tree" in _load_error(dump_sklearn_model(forest))


@pytest.mark.parametrize(
    ("field", "value"), [("left", 10**6), ("feature_idx", 7), ("is_categorical", 1)]
)
def test_malformed_hist_gradient_boosting_trees_are_refused(
    frame: pd.DataFrame, income: np.ndarray, field: str, value: int
) -> None:
    model = HistGradientBoostingClassifier(max_iter=3).fit(_numeric(frame), income)
    model._predictors[0][0].nodes[field][0] = value
    assert "malformed gradient-boosting tree" in _load_error(dump_sklearn_model(model))


def test_sparse_coefficients_are_bounds_checked(frame: pd.DataFrame, income: np.ndarray) -> None:
    model = LogisticRegression().fit(_numeric(frame), income).sparsify()
    np.testing.assert_array_equal(
        load_model(dump_sklearn_model(model)).predict(_numeric(frame)),
        model.predict(_numeric(frame)),
    )
    model.coef_.indices[0] = 10**6
    assert "malformed sparse matrix" in _load_error(dump_sklearn_model(model))


def test_gradient_boosting_stage_width_is_checked(frame: pd.DataFrame, income: np.ndarray) -> None:
    model = GradientBoostingClassifier(n_estimators=3).fit(_numeric(frame), income)
    model.estimators_ = np.hstack([model.estimators_, model.estimators_])
    assert "malformed gradient-boosting model" in _load_error(dump_sklearn_model(model))


# --- ONNX -----------------------------------------------------------------------------------


def _onnx(
    inputs: list[Any],
    nodes: list[Any],
    outputs: list[Any],
    initializers: list[Any] | None = None,
) -> Any:
    graph = helper.make_graph(nodes, "model", inputs, outputs, initializers or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model


def _serialize(model: Any) -> bytes:
    data: bytes = model.SerializeToString()
    return data


def _age_over_40(input_name: str = "age") -> bytes:
    return _serialize(
        _onnx(
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [None, 1])],
            [
                helper.make_node("Greater", [input_name, "threshold"], ["older"]),
                helper.make_node("Cast", ["older"], ["label"], to=TensorProto.INT64),
            ],
            [helper.make_tensor_value_info("label", TensorProto.INT64, [None, 1])],
            [numpy_helper.from_array(np.array(40.0, dtype=np.float32), "threshold")],
        )
    )


def _older_women() -> bytes:
    """Inputs ``age`` (int64, 1-D) and ``sex`` (string); outputs scores first, label second."""
    return _serialize(
        _onnx(
            [
                helper.make_tensor_value_info("age", TensorProto.INT64, [None]),
                helper.make_tensor_value_info("sex", TensorProto.STRING, [None, 1]),
            ],
            [
                helper.make_node("Greater", ["age", "threshold"], ["older"]),
                helper.make_node("Reshape", ["older", "column"], ["older_column"]),
                helper.make_node("Equal", ["sex", "female"], ["is_female"]),
                helper.make_node("And", ["older_column", "is_female"], ["both"]),
                helper.make_node("Cast", ["both"], ["label"], to=TensorProto.INT64),
                helper.make_node("Cast", ["both"], ["scores"], to=TensorProto.FLOAT),
            ],
            [
                helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, 1]),
                helper.make_tensor_value_info("label", TensorProto.INT64, [None, 1]),
            ],
            [
                numpy_helper.from_array(np.array(40, dtype=np.int64), "threshold"),
                numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), "column"),
                numpy_helper.from_array(np.array(["Female"], dtype=object), "female"),
            ],
        )
    )


def _linear(width: int) -> bytes:
    """A single input ``X`` of ``width`` floats per row, times a weight vector of ones."""
    return _serialize(
        _onnx(
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, width])],
            [helper.make_node("MatMul", ["X", "weights"], ["variable"])],
            [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
            [numpy_helper.from_array(np.ones((width, 1), dtype=np.float32), "weights")],
        )
    )


def test_sniff_recognises_onnx() -> None:
    assert sniff_format(_age_over_40()) is ModelFormat.ONNX


def test_onnx_single_column_input(frame: pd.DataFrame) -> None:
    loaded = load_model(_age_over_40(), feature_names=FEATURES)
    assert loaded.format is ModelFormat.ONNX
    predictions = loaded.predict(frame)
    assert predictions.shape == (len(frame),)
    np.testing.assert_array_equal(predictions, (frame["age"] > 40).astype(np.int64))


def test_onnx_several_typed_inputs_and_label_output(frame: pd.DataFrame) -> None:
    loaded = load_model(_older_women(), feature_names=FEATURES)
    expected = (frame["age"] > 40) & (frame["sex"] == "Female")
    np.testing.assert_array_equal(loaded.predict(frame), expected.astype(np.int64))


def test_onnx_string_input_with_missing_values(frame: pd.DataFrame) -> None:
    sex = pd.Series(["Female", "Female", "Female"]).where(np.array([True, False, True]))
    rows = pd.DataFrame({"age": [50, 50, 20], "sex": sex, "hours": [1.0, 1.0, 1.0]})
    np.testing.assert_array_equal(load_model(_older_women()).predict(rows), [1, 0, 0])


def test_onnx_matrix_input_gets_the_numeric_columns(frame: pd.DataFrame) -> None:
    predictions = load_model(_linear(2), feature_names=FEATURES).predict(frame)
    expected = (frame["age"] + frame["hours"]).to_numpy(np.float32)
    np.testing.assert_allclose(predictions, expected, rtol=1e-6)


def test_onnx_matrix_width_mismatch_is_a_prediction_error(frame: pd.DataFrame) -> None:
    loaded = load_model(_linear(3), feature_names=FEATURES)
    with pytest.raises(PredictionError, match=r"expects 3 values per row, but there are 2"):
        loaded.predict(frame)
    message = _load_error(_linear(5), feature_names=FEATURES)
    assert "expects 5 values per row, but the round has only 3 feature columns" in message


def test_onnx_unknown_input_names_are_refused(frame: pd.DataFrame) -> None:
    data = _older_women()
    message = _load_error(data, feature_names=["age", "gender", "hours"])
    assert "inputs that are not feature columns: 'sex'" in message
    assert "'age', 'gender', 'hours'" in message
    loaded = load_model(data)
    with pytest.raises(PredictionError, match="not feature columns: 'sex'"):
        loaded.predict(frame.rename(columns={"sex": "gender"}))


def test_onnx_column_of_the_wrong_type(frame: pd.DataFrame) -> None:
    loaded = load_model(_age_over_40("sex"))
    with pytest.raises(PredictionError, match="column 'sex' cannot be fed to the ONNX input"):
        loaded.predict(frame)


def test_onnx_runtime_failure_is_a_prediction_error(frame: pd.DataFrame) -> None:
    data = _serialize(
        _onnx(
            [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
            [helper.make_node("Reshape", ["age", "shape"], ["label"])],
            [helper.make_tensor_value_info("label", TensorProto.FLOAT, [3])],
            [numpy_helper.from_array(np.array([3], dtype=np.int64), "shape")],
        )
    )
    loaded = load_model(data)
    with pytest.raises(PredictionError, match=r"^the model failed while predicting: ") as info:
        loaded.predict(frame)
    assert "ONNXRuntimeError" not in str(info.value)


def _from_age(node: Any, output_shape: list[Any]) -> bytes:
    return _serialize(
        _onnx(
            [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
            [node],
            [helper.make_tensor_value_info("label", TensorProto.FLOAT, output_shape)],
        )
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            _from_age(helper.make_node("Div", ["age", "age"], ["label"]), [None, 1]),
            "1 prediction is missing or not finite",
        ),
        (
            _from_age(helper.make_node("Concat", ["age", "age"], ["label"], axis=1), [None, 2]),
            "the predictions have shape (3, 2); expected one value per row",
        ),
        (_age_over_40(), "labels not in the round's label set: 0, 1; expected one of '<=50K'"),
    ],
    ids=["nan", "two_columns", "outside_label_set"],
)
def test_bad_model_outputs_are_refused_when_encoded(data: bytes, expected: str) -> None:
    rows = pd.DataFrame({"age": [0.0, 41.0, 30.0], "sex": ["Male"] * 3, "hours": [1.0] * 3})
    label = LabelInfo(name="income", task=Task.CLASSIFICATION, classes=["<=50K", ">50K"])
    raw = load_model(data).predict(rows)
    with pytest.raises(PredictionError) as info:
        encode_predictions(raw, len(rows), label)
    assert expected in str(info.value)


def test_onnx_that_onnxruntime_rejects() -> None:
    data = _serialize(
        _onnx(
            [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
            [helper.make_node("NoSuchOperator", ["age"], ["label"])],
            [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None, 1])],
        )
    )
    assert "onnxruntime cannot load the model" in _load_error(data)


def _external(tensor: Any, directory: Path) -> None:
    """Move ``tensor``'s data into ``directory/weights.bin``, referenced by location."""
    (directory / "weights.bin").write_bytes(tensor.raw_data)
    set_external_data(tensor, location="weights.bin")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")


def test_onnx_external_initializer_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the referenced file exists next to the process
    model = _onnx(
        [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
        [helper.make_node("Add", ["age", "offset"], ["label"])],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(np.array([[1.0]], dtype=np.float32), "offset")],
    )
    _external(model.graph.initializer[0], tmp_path)
    assert "external data files" in _load_error(_serialize(model))


def test_onnx_external_tensor_in_a_subgraph_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    constant = numpy_helper.from_array(np.array([[1.0]], dtype=np.float32), "one")
    _external(constant, tmp_path)
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["out"], value=constant)],
        "branch",
        [],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1])],
    )
    model = _onnx(
        [helper.make_tensor_value_info("flag", TensorProto.BOOL, [])],
        [helper.make_node("If", ["flag"], ["label"], then_branch=branch, else_branch=branch)],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, [1, 1])],
    )
    assert "external data files" in _load_error(_serialize(model))
