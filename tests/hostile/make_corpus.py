"""Rebuild the hostile model files of ``tests/hostile/models/`` (run by hand, then commit).

``uv run python -m tests.hostile.make_corpus``. Each file is described, with the refusal the
platform must give, in ``tests/hostile/models.toml``; add a file there and here for every
new way of attacking the loader that is found.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

from bounty_engine.models import dump_sklearn_model

OUT = Path(__file__).parent / "models"


def _skops() -> bytes:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    return dump_sklearn_model(model)


def _rewrite_schema(data: bytes, change: Callable[[dict[str, object]], None]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "schema.json":
                schema = json.loads(content)
                change(schema)
                content = json.dumps(schema).encode()
            target.writestr(name, content)
    return out.getvalue()


def pickle_os_system() -> bytes:
    """A pickle whose loading would run ``os.system`` (never unpickled: refused by content)."""
    return b"cos\nsystem\n(S'touch /tmp/bias-bounty-pwned'\ntR."


def joblib_zlib() -> bytes:
    """A joblib-style zlib-compressed pickle."""
    return zlib.compress(pickle.dumps({"coef_": [1.0, 2.0]}, protocol=4))


def dill_function() -> bytes:
    """A dill-style pickle that rebuilds a function from code."""
    return (
        b"\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00"
        b"\x8c\ndill._dill\x94\x8c\x10_create_function\x94\x93\x94."
    )


def skops_untrusted_type() -> bytes:
    """A skops file whose top object claims to be ``os.system``."""

    def change(schema: dict[str, object]) -> None:
        schema["__module__"], schema["__class__"] = "os", "system"

    return _rewrite_schema(_skops(), change)


def skops_operator_node() -> bytes:
    """A skops file with a crafted operator-function node (``operator.attrgetter``)."""

    def change(schema: dict[str, object]) -> None:
        content = schema["content"]
        assert isinstance(content, dict)
        content["content"]["C"] = {
            "__class__": "attrgetter",
            "__module__": "operator",
            "__loader__": "OperatorFuncNode",
            "attrs": {
                "__class__": "str",
                "__module__": "builtins",
                "__loader__": "JsonNode",
                "content": '"__globals__"',
                "is_json": True,
                "__id__": 1,
            },
            "__id__": 2,
        }

    return _rewrite_schema(_skops(), change)


def skops_method_node() -> bytes:
    """A skops file with a bound-method node pointing at ``os.system``."""

    def change(schema: dict[str, object]) -> None:
        content = schema["content"]
        assert isinstance(content, dict)
        content["content"]["C"] = {
            "__class__": "method",
            "__module__": "builtins",
            "__loader__": "MethodNode",
            "content": {
                "func": "system",
                "obj": {
                    "__class__": "module",
                    "__module__": "os",
                    "__loader__": "ObjectNode",
                    "__id__": 3,
                },
            },
            "__id__": 4,
        }

    return _rewrite_schema(_skops(), change)


def skops_dunder_attribute() -> bytes:
    """A skops file that sets ``__class__`` through the object's state."""

    def change(schema: dict[str, object]) -> None:
        content = schema["content"]
        assert isinstance(content, dict)
        content["content"]["__reduce__"] = content["content"]["C"]

    return _rewrite_schema(_skops(), change)


def skops_zip_bomb() -> bytes:
    """A skops archive whose member declares 4 GiB once inflated (the header is checked
    before anything is inflated)."""
    data = bytearray(_skops())
    directory = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = next(i for i in directory.infolist() if i.filename.endswith(".npy"))
    # Patch the uncompressed size of that member in the central directory and local header.
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_len = struct.unpack_from("<H", data, offset + 28)[0]
        name = bytes(data[offset + 46 : offset + 46 + name_len]).decode()
        if name == info.filename:
            struct.pack_into("<I", data, offset + 24, 0xFFFFFFF0)
        offset = data.find(b"PK\x01\x02", offset + 4)
    struct.pack_into("<I", data, info.header_offset + 22, 0xFFFFFFF0)
    return bytes(data)


def skops_path_traversal() -> bytes:
    """A skops archive with a member named ``../../etc/cron.d/pwn``."""
    out = io.BytesIO(_skops())
    with zipfile.ZipFile(out, "a") as target:
        target.writestr("../../etc/cron.d/pwn", b"* * * * * root touch /tmp/pwned\n")
    return out.getvalue()


def onnx_external_data() -> bytes:
    """An ONNX model whose weight is read from ``../../../../etc/passwd``."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1], [0.0])
    weight.data_location = TensorProto.EXTERNAL
    entry = weight.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    del weight.float_data[:]
    graph = helper.make_graph(
        [helper.make_node("Mul", ["age", "w"], ["out"])],
        "g",
        [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])],
        [weight],
    )
    return helper.make_model(graph).SerializeToString()


def _field(number: int, payload: bytes | int) -> bytes:
    """One protobuf field: a varint, or length-delimited bytes."""

    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def onnx_deep_nesting() -> bytes:
    """An ONNX model of 2,000 nested If subgraphs (written as raw protobuf: the onnx package
    itself refuses to build one this deep)."""
    leaf = _field(1, _field(1, b"age") + _field(2, b"out") + _field(4, b"Identity"))
    leaf += _field(12, _field(1, b"out"))
    graph = leaf
    for _ in range(2000):
        then_branch = _field(1, b"then_branch") + _field(6, graph) + _field(20, 5)
        else_branch = _field(1, b"else_branch") + _field(6, leaf) + _field(20, 5)
        node = _field(1, b"cond") + _field(2, b"out") + _field(4, b"If")
        graph = _field(1, node + _field(5, then_branch) + _field(5, else_branch))
        graph += _field(12, _field(1, b"out"))
    inputs = _field(11, _field(1, b"age")) + _field(11, _field(1, b"cond"))
    return _field(1, 8) + _field(7, graph + inputs) + _field(8, _field(2, 17))


def onnx_truncated() -> bytes:
    """The first half of a valid ONNX model."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["age"], ["out"])],
        "g",
        [helper.make_tensor_value_info("age", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])],
    )
    data = helper.make_model(graph).SerializeToString()
    return data[: len(data) // 2]


def not_a_model() -> bytes:
    """A PNG header and noise."""
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def empty() -> bytes:
    """Zero bytes."""
    return b""


FILES: dict[str, Callable[[], bytes]] = {
    "pickle-os-system.pkl": pickle_os_system,
    "joblib-zlib.joblib": joblib_zlib,
    "dill-function.pkl": dill_function,
    "skops-untrusted-type.skops": skops_untrusted_type,
    "skops-operator-node.skops": skops_operator_node,
    "skops-method-node.skops": skops_method_node,
    "skops-dunder-attribute.skops": skops_dunder_attribute,
    "skops-zip-bomb.skops": skops_zip_bomb,
    "skops-path-traversal.skops": skops_path_traversal,
    "onnx-external-data.onnx": onnx_external_data,
    "onnx-deep-nesting.onnx": onnx_deep_nesting,
    "onnx-truncated.onnx": onnx_truncated,
    "not-a-model.png": not_a_model,
    "empty.bin": empty,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in FILES.items():
        (OUT / name).write_bytes(make())
        print(f"{name}: {(OUT / name).stat().st_size} bytes")


if __name__ == "__main__":
    _ = onnx  # the onnx package builds the ONNX files
    main()
