"""Which types a skops file may name: an allowlist of packages and a denylist of modules.

A type is allowed if it resolves to a class (or numpy ufunc) in scikit-learn, numpy or scipy,
outside modules that do I/O, load code, read raw memory or start processes.
"""

from __future__ import annotations

import importlib

import numpy as np

_ALLOWED_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})

_IO = "reads or writes files, or fetches URLs"
_CODE = "builds, compiles or loads code"
_MEMORY = "can read or write raw memory"
_PROCESSES = "starts processes or thread pools"
_TESTS = "is a testing or build helper"
_RAW_INDICES = (
    "stores raw indices that compiled code uses without bounds checks "
    "(for nearest neighbours, use algorithm='brute')"
)
_RAW_BUFFERS = "is a compiled-code internal whose buffers and sizes are trusted unchecked"

# Modules (and everything under them) that no model needs and that do something a model
# must not do. A type is refused if its name as written in the file or its real location
# (``__module__`` + ``__qualname__``) falls under one of these.
_DENIED_MODULES: dict[str, str] = {
    "sklearn.datasets": _IO,
    "sklearn.externals": _TESTS,
    "sklearn.utils._testing": _TESTS,
    "sklearn.utils._mocking": _TESTS,
    "sklearn.utils.estimator_checks": _TESTS,
    "sklearn.utils._show_versions": _TESTS,
    "sklearn.utils.discovery": _CODE,
    "sklearn.utils.parallel": _PROCESSES,
    "sklearn.utils._joblib": _PROCESSES,
    "sklearn._build_utils": _TESTS,
    "sklearn.__check_build": _TESTS,
    "sklearn.neighbors._kd_tree": _RAW_INDICES,
    "sklearn.neighbors._ball_tree": _RAW_INDICES,
    "sklearn.neighbors._binary_tree": _RAW_INDICES,
    "sklearn.neighbors._quad_tree": _RAW_INDICES,
    "sklearn.metrics._dist_metrics": _RAW_BUFFERS,
    "sklearn.utils._seq_dataset": _RAW_BUFFERS,
    "sklearn.utils._weight_vector": _RAW_BUFFERS,
    "numpy.lib.npyio": _IO,
    "numpy.lib._npyio_impl": _IO,
    "numpy.lib._datasource": _IO,
    "numpy.lib.format": _IO,
    "numpy.lib._format_impl": _IO,
    "numpy.lib._iotools": _IO,
    "numpy.lib._utils_impl": _IO,
    "numpy._core.memmap": _IO,
    "numpy.ma.mrecords": _IO,
    "numpy.lib.stride_tricks": _MEMORY,
    "numpy.lib._stride_tricks_impl": _MEMORY,
    "numpy.ctypeslib": _MEMORY,
    "numpy._core._internal": _MEMORY,
    "numpy._core._dtype_ctypes": _MEMORY,
    "numpy.core": _MEMORY,  # deprecated alias of numpy._core, including the above
    "numpy.f2py": _CODE,
    "numpy.distutils": _CODE,
    "numpy.typing": _CODE,
    "numpy._pyinstaller": _CODE,
    "numpy.random._examples": _CODE,
    "numpy.testing": _TESTS,
    "numpy._pytesttester": _TESTS,
    "numpy.conftest": _TESTS,
    "scipy.io": _IO,
    "scipy.datasets": _IO,
    "scipy.misc": _IO,
    "scipy._lib": _MEMORY,  # LowLevelCallable wraps raw C function pointers
    "scipy.conftest": _TESTS,
}
# Exact names (public aliases of the above, and I/O functions named for a clearer message).
_DENIED_NAMES: dict[str, str] = {
    "numpy.memmap": _IO,
    "numpy.DataSource": _IO,
    "numpy.load": _IO,
    "numpy.save": _IO,
    "numpy.savez": _IO,
    "numpy.savez_compressed": _IO,
    "numpy.savetxt": _IO,
    "numpy.loadtxt": _IO,
    "numpy.genfromtxt": _IO,
    "numpy.fromfile": _IO,
    "numpy.fromregex": _IO,
    "scipy.LowLevelCallable": _MEMORY,
    # With input="filename" or "file", these read the files that the data names.
    "sklearn.feature_extraction.text.CountVectorizer": _IO,
    "sklearn.feature_extraction.text.TfidfVectorizer": _IO,
    "sklearn.feature_extraction.text.HashingVectorizer": _IO,
}
_TEST_MODULE_PARTS = frozenset({"tests", "testing", "_testing", "conftest", "_testutils"})
# Reviewed names outside the class rule that fitted scikit-learn models contain (a
# HistGradientBoosting model with categorical features holds partial(check_array, ...)).
# skops rebuilds a plain functools.partial from parts that are each checked.
_EXTRA_ALLOWED = frozenset({"functools.partial", "sklearn.utils.validation.check_array"})


def type_problem(name: str, *, trusted_by_skops: bool) -> str | None:
    """Why the type called ``name`` may not be loaded, or None if it may.

    Types that skops trusts by default only go through the denylist; any other type must
    also resolve to a class (or numpy ufunc) in scikit-learn, numpy or scipy.
    """
    denied = _denied_reason(name)
    if denied or trusted_by_skops or name in _EXTRA_ALLOWED:
        return denied
    module_name, _, attribute = name.rpartition(".")
    if module_name.partition(".")[0] not in _ALLOWED_PACKAGES:
        return "only scikit-learn, numpy and scipy types are allowed"
    try:
        # Importing runs only code from the three trusted packages, outside denied modules.
        target = getattr(importlib.import_module(module_name), attribute)
    except Exception:
        return "not a module-level class of the installed scikit-learn, numpy or scipy"
    if not isinstance(target, type | np.ufunc):
        return "not a class; only classes and numpy ufuncs are allowed"
    real_name = f"{target.__module__}.{getattr(target, '__qualname__', target.__name__)}"
    if real_name.partition(".")[0] not in _ALLOWED_PACKAGES:
        return f"it is {real_name}, which is outside scikit-learn, numpy and scipy"
    return _denied_reason(real_name)


def _denied_reason(name: str) -> str | None:
    parts = name.split(".")
    if any(part.startswith("__") for part in parts[1:]):
        return "special (dunder) names are not allowed"
    if name in _DENIED_NAMES:
        return _DENIED_NAMES[name]
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if module in _DENIED_MODULES:
            return f"{module} {_DENIED_MODULES[module]}"
    if parts[0] in _ALLOWED_PACKAGES and _TEST_MODULE_PARTS.intersection(parts):
        return _TESTS
    return None
