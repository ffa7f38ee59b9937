"""Bounds checks of the index structures in a loaded scikit-learn model.

scikit-learn's tree code and scipy's sparse kernels follow stored indices without bounds
checks, so a crafted file could make them read or write outside their arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import BaseEnsemble
from sklearn.ensemble._gb import BaseGradientBoosting
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import (
    BaseHistGradientBoosting,
)
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.tree._classes import BaseDecisionTree
from sklearn.tree._tree import Tree

from bounty_engine.errors import ModelLoadError
from bounty_engine.models.messages import failures_as

# Estimators that hand their input to decision trees without re-validating its width: the
# trees' feature indices must fit the narrowest width any of them checks.
_TREE_ENSEMBLES = (BaseDecisionTree, BaseEnsemble, BaseHistGradientBoosting)
_BITSET_ATTRIBUTES = ("binned_left_cat_bitsets", "raw_left_cat_bitsets")


def check_index_structures(model: object) -> None:
    """Bounds-check every decision tree and sparse matrix before compiled code walks it.

    Valid trees store children after their parent, which also rules out cycles.
    """
    stack: list[tuple[object, int | None]] = [(model, None)]
    seen: set[tuple[int, int | None]] = set()
    while stack:
        obj, width = stack.pop()
        if (id(obj), width) in seen:
            continue
        seen.add((id(obj), width))
        if isinstance(obj, Tree):
            _check_tree(obj, width)
            continue
        if isinstance(obj, TreePredictor):
            _check_predictor(obj, width, None)
            continue
        if scipy.sparse.issparse(obj):
            _check_sparse(obj)
            continue
        if isinstance(obj, _TREE_ENSEMBLES):
            width = _narrowest_input(obj, width)
            if isinstance(obj, BaseHistGradientBoosting):
                _check_hist_gradient_boosting(obj, width)
            if isinstance(obj, BaseGradientBoosting):
                _check_gradient_boosting(obj)
        elif isinstance(obj, BaseEstimator):
            width = None  # other estimators validate their own input
        stack.extend((child, width) for child in _children(obj))


def _children(obj: object) -> Iterable[object]:
    if isinstance(obj, list | tuple | set | frozenset):
        return obj
    if isinstance(obj, dict):
        return obj.values()
    if isinstance(obj, np.ndarray):
        return obj.ravel().tolist() if obj.dtype == object else ()
    if isinstance(obj, type):
        return ()
    state = getattr(obj, "__dict__", None)
    return state.values() if isinstance(state, dict) else ()


def _narrowest_input(estimator: object, width: int | None) -> int | None:
    state = vars(estimator)
    widths = [width, state.get("n_features_in_")]
    subsets = state.get("estimators_features_")  # bagging: each member sees some columns
    if isinstance(subsets, list) and subsets:
        widths.append(min(len(subset) for subset in subsets))
    valid = [int(w) for w in widths if isinstance(w, int | np.integer) and w >= 0]
    return min(valid) if valid else None


def _unsafe_tree(what: str) -> ModelLoadError:
    return ModelLoadError(
        f"the model contains a malformed {what} (node indices out of range); "
        "re-save the fitted model with skops.io.dump"
    )


def _valid_splits(
    left: npt.NDArray[Any],
    right: npt.NDArray[Any],
    feature: npt.NDArray[Any],
    count: int,
    width: int,
) -> npt.NDArray[np.bool_]:
    """Which of ``count`` nodes have children after them (and below ``count``) and a feature
    index below ``width``."""
    index = np.arange(count)
    return (
        (left > index)
        & (left < count)
        & (right > index)
        & (right < count)
        & (feature >= 0)
        & (feature < width)
    )


def _check_tree(tree: Any, width: int | None) -> None:
    node_count, capacity = int(tree.node_count), int(tree.capacity)
    if width is None or not 1 <= node_count <= capacity:
        raise _unsafe_tree("decision tree")
    left, right = tree.children_left, tree.children_right
    leaf = (left == -1) & (right == -1)
    if not np.all(leaf | _valid_splits(left, right, tree.feature, node_count, width)):
        raise _unsafe_tree("decision tree")


def _check_predictor(
    predictor: Any, width: int | None, categorical: npt.NDArray[np.bool_] | None
) -> None:
    """Check a HistGradientBoosting tree; ``categorical`` flags its estimator's features."""
    nodes = getattr(predictor, "nodes", None)
    bitsets: list[Any] = [getattr(predictor, name, None) for name in _BITSET_ATTRIBUTES]
    if (
        not width
        or not isinstance(nodes, np.ndarray)
        or nodes.dtype != PREDICTOR_RECORD_DTYPE
        or nodes.ndim != 1
        or len(nodes) == 0
        or not all(_is_bitset_array(b) for b in bitsets)
    ):
        raise _unsafe_tree("gradient-boosting tree")
    leaf = nodes["is_leaf"].astype(bool)
    feature = nodes["feature_idx"]
    split = _valid_splits(nodes["left"], nodes["right"], feature, len(nodes), width)
    is_categorical = ~leaf & nodes["is_categorical"].astype(bool)
    n_bitsets = min(len(b) for b in bitsets)
    categorical_ok = nodes["bitset_idx"] < n_bitsets
    if categorical is not None:
        categorical_ok &= categorical[np.clip(feature, 0, len(categorical) - 1)]
    if not np.all(leaf | split) or not np.all(categorical_ok[is_categorical]):
        raise _unsafe_tree("gradient-boosting tree")


def _is_bitset_array(value: object) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype == np.uint32
        and value.ndim == 2
        and value.shape[1] == 8
    )


def _check_hist_gradient_boosting(estimator: Any, width: int | None) -> None:
    state = vars(estimator)
    predictors, bin_mapper = state.get("_predictors"), state.get("_bin_mapper")
    if predictors is None:
        return  # not fitted: predict refuses to run
    categorical = np.asarray(getattr(bin_mapper, "is_categorical_", None))
    if width is None or categorical.shape != (width,):
        raise _unsafe_tree("gradient-boosting model")
    for predictor in (p for iteration in predictors for p in iteration):
        _check_predictor(predictor, width, categorical.astype(bool))


def _check_gradient_boosting(estimator: Any) -> None:
    """GradientBoosting* adds each stage's trees into columns its compiled code trusts."""
    state = vars(estimator)
    stages = state.get("estimators_")
    if stages is None:
        return  # not fitted
    multiclass = bool(getattr(state.get("_loss"), "is_multiclass", False))
    columns = len(state.get("classes_", ())) if multiclass else 1
    if (
        not isinstance(stages, np.ndarray)
        or stages.ndim != 2
        or not stages.shape[1] == columns == state.get("n_trees_per_iteration_")
    ):
        raise _unsafe_tree("gradient-boosting model")
    init = state.get("init_")
    # For multi-class models the initial predictions, whose columns the trees are added to,
    # come from init_.predict_proba: only the default estimator's width can be checked.
    if multiclass and init != "zero":
        prior = getattr(init, "class_prior_", ())
        if not isinstance(init, DummyClassifier) or len(prior) != columns:
            raise ModelLoadError(
                "multi-class GradientBoostingClassifier models with a custom init estimator "
                "are not supported; use the default init, or HistGradientBoostingClassifier"
            )


def _check_sparse(matrix: Any) -> None:
    """Full index validation (scipy only checks shapes when it builds a matrix)."""
    with failures_as(ModelLoadError, "the model contains a malformed sparse matrix"):
        if matrix.format in ("csr", "csc", "bsr"):
            matrix.check_format(full_check=True)
        elif matrix.format == "coo":
            for index, size in zip(matrix.coords, matrix.shape, strict=True):
                if index.size and (index.min() < 0 or index.max() >= size):
                    raise ValueError("coordinates out of range")
        elif matrix.format == "dia" and matrix.data.shape[0] != len(matrix.offsets):
            raise ValueError("one row of data per diagonal is required")
