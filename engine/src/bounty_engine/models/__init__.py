"""Load participant models safely and run them.

Participants upload model files that are hostile until proven otherwise. Two formats are
accepted, recognised by content rather than by file name (``formats``):

- **skops** (scikit-learn models saved with ``skops.io``): a zip archive with ``schema.json``.
  Every type the file names must pass an allowlist (``allowed_types``); the archive is
  size-capped (``skops_archive``); attribute names are checked (``skops_loader``);
  decision-tree structures are bounds-checked because scikit-learn's compiled code trusts
  their indices (``bounds_checks``).
- **ONNX**, run by onnxruntime on the CPU with one thread; external data files are refused
  (``protobuf``, ``onnx_loader``).

Pickle, joblib and dill files are recognised and refused: loading one can run arbitrary code.
"""

from bounty_engine.models.formats import sniff_format
from bounty_engine.models.loaded_model import LoadedModel, ModelFormat
from bounty_engine.models.loader import dump_sklearn_model, load_model
from bounty_engine.models.skops_archive import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "LoadedModel",
    "ModelFormat",
    "dump_sklearn_model",
    "load_model",
    "sniff_format",
]
