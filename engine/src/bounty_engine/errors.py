"""Errors raised by the engine. Each carries a message meant for the person who caused it."""

from __future__ import annotations


class EngineError(ValueError):
    """Base class: something a participant or organizer supplied is unusable."""

    code = "engine_error"


class DataError(EngineError):
    """A data file or frame cannot be used (missing label, empty, mixed types, ...)."""

    code = "invalid_data"


class ExpressionError(EngineError):
    """A group expression is malformed, hostile, or does not fit the round's schema.

    ``offset`` is the 0-based character offset of the problem in the expression text,
    ``line``/``column`` are 1-based, when known.
    """

    code = "invalid_expression"

    def __init__(self, message: str, *, offset: int | None = None, text: str | None = None):
        self.offset = offset
        self.line: int | None = None
        self.column: int | None = None
        if offset is not None and text is not None:
            before = text[:offset]
            self.line = before.count("\n") + 1
            self.column = offset - (before.rfind("\n") + 1) + 1
        where = f" (at line {self.line}, column {self.column})" if self.line is not None else ""
        super().__init__(f"{message}{where}")
        self.reason = message


class ModelLoadError(EngineError):
    """A model file cannot be loaded safely (wrong format, untrusted types, bad inputs)."""

    code = "invalid_model"


class PredictionError(EngineError):
    """A model ran but its output is unusable (wrong shape, NaN, labels outside the label set)."""

    code = "invalid_predictions"
