"""The rule's own tree: validated conditions that render and evaluate themselves."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from bounty_engine.expressions.canonical import render_name, render_value
from bounty_engine.schema import FeatureKind

if TYPE_CHECKING:
    from bounty_engine.expressions.evaluate import Frame

Scalar = str | bool | int | float
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Column:
    name: str
    kind: FeatureKind

    def render(self) -> str:
        return render_name(self.name)


@dataclass(frozen=True)
class Value:
    value: Scalar

    def render(self) -> str:
        return render_value(self.value)


Operand = Column | Value


class Condition(ABC):
    """A node of a validated rule."""

    precedence: ClassVar[int] = 4  # or: 1, and: 2, not: 3, atoms: 4

    @abstractmethod
    def mask(self, frame: Frame) -> BoolArray:
        """Rows of the frame satisfying the condition."""

    @abstractmethod
    def render(self) -> str:
        """Canonical text."""

    def render_within(self, precedence: int) -> str:
        text = self.render()
        return f"({text})" if self.precedence < precedence else text


@dataclass(frozen=True)
class Literal(Condition):
    value: bool

    def mask(self, frame: Frame) -> BoolArray:
        return np.full(frame.n, self.value, dtype=np.bool_)

    def render(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Not(Condition):
    operand: Condition
    precedence: ClassVar[int] = 3

    def mask(self, frame: Frame) -> BoolArray:
        return ~self.operand.mask(frame)

    def render(self) -> str:
        # `not` binds more loosely than comparisons, so `not age > 3` needs no brackets; adding
        # them would let the canonical form nest deeper than the text it came from.
        return "not " + self.operand.render_within(self.precedence)


@dataclass(frozen=True)
class BoolOp(Condition):
    items: tuple[Condition, ...]
    word: ClassVar[str]

    @classmethod
    def of(cls, items: Iterable[Condition]) -> BoolOp:
        """Flattened: ``a and (b and c)`` becomes ``a and b and c``."""
        flat: list[Condition] = []
        for item in items:
            flat.extend(item.items if isinstance(item, cls) else [item])
        return cls(tuple(flat))

    @staticmethod
    @abstractmethod
    def combine(left: BoolArray, right: BoolArray) -> BoolArray:
        """The element-wise ``and`` / ``or`` of two masks."""

    def mask(self, frame: Frame) -> BoolArray:
        result = self.items[0].mask(frame)
        for item in self.items[1:]:
            result = self.combine(result, item.mask(frame))
        return result

    def render(self) -> str:
        return f" {self.word} ".join(item.render_within(self.precedence) for item in self.items)


@dataclass(frozen=True)
class And(BoolOp):
    word: ClassVar[str] = "and"
    precedence: ClassVar[int] = 2

    @staticmethod
    def combine(left: BoolArray, right: BoolArray) -> BoolArray:
        return left & right


@dataclass(frozen=True)
class Or(BoolOp):
    word: ClassVar[str] = "or"
    precedence: ClassVar[int] = 1

    @staticmethod
    def combine(left: BoolArray, right: BoolArray) -> BoolArray:
        return left | right


@dataclass(frozen=True)
class Compare(Condition):
    operands: tuple[Operand, ...]
    ops: tuple[str, ...]

    def mask(self, frame: Frame) -> BoolArray:
        result: BoolArray | None = None
        for i, op in enumerate(self.ops):
            pair = frame.compare(self.operands[i], op, self.operands[i + 1])
            result = pair if result is None else result & pair
        return np.ones(frame.n, dtype=np.bool_) if result is None else result

    def render(self) -> str:
        parts = [self.operands[0].render()]
        for op, operand in zip(self.ops, self.operands[1:], strict=True):
            parts.extend((op, operand.render()))
        return " ".join(parts)


@dataclass(frozen=True)
class Member(Condition):
    column: Column
    values: tuple[Scalar, ...]
    negated: bool

    def mask(self, frame: Frame) -> BoolArray:
        hit = frame.isin(self.column, self.values)
        return ~hit if self.negated else hit

    def render(self) -> str:
        items = ", ".join(render_value(v) for v in self.values)
        if len(self.values) == 1:
            items += ","
        word = "not in" if self.negated else "in"
        return f"{self.column.render()} {word} ({items})"
