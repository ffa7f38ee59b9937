"""A minimal protobuf reader: enough to recognise ONNX files and find external data
references without importing the ``onnx`` package."""

from __future__ import annotations

from collections.abc import Iterator


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


_GRAPH_FIELD = 7  # ModelProto.graph
# Which length-delimited fields of each ONNX message hold other messages that may contain
# tensors (field numbers from onnx.proto3).
_ONNX_CHILDREN: dict[str, dict[int, str]] = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "function": {7: "node", 11: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}
_TENSOR_EXTERNAL_DATA = 13  # TensorProto.external_data
_TENSOR_DATA_LOCATION = 14  # TensorProto.data_location (1 = EXTERNAL)


def looks_like_onnx(data: bytes) -> bool:
    """Whether ``data`` parses as a protobuf message with a graph, as ONNX files do."""
    try:
        return any(
            number == _GRAPH_FIELD and wire == 2
            for number, wire, _value, _end in _fields(data, 0, len(data))
        )
    except ProtobufError:
        return False


def onnx_has_external_data(data: bytes) -> bool:
    """Whether any tensor in the ONNX file (graphs, subgraphs, functions) is stored outside it.

    Raises ``ProtobufError`` if the file is malformed.
    """
    stack = [("model", 0, len(data))]
    while stack:
        kind, start, end = stack.pop()
        children = _ONNX_CHILDREN[kind]
        for number, wire, value, field_end in _fields(data, start, end):
            if kind == "tensor" and (
                number == _TENSOR_EXTERNAL_DATA
                or (number == _TENSOR_DATA_LOCATION and wire == 0 and value == 1)
            ):
                return True
            if wire == 2 and number in children:
                stack.append((children[number], value, field_end))
    return False


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while pos < end and shift < 64:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise ProtobufError("bad varint")


def _fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field number, wire type, value, end)`` for each field of one message.

    For length-delimited fields (wire type 2) ``value`` is the offset where the bytes start.
    """
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == 2:
            length, value = _varint(buf, pos, end)
            pos = value + length
        elif wire in (1, 5):
            value, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        if pos > end:
            raise ProtobufError("truncated field")
        yield number, wire, value, pos
