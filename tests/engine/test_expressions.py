"""Group rules: accepted forms, hostile input, schema validation, evaluation, canonical form."""

from __future__ import annotations

import dataclasses
import functools
import operator
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounty_engine.errors import DataError, ExpressionError
from bounty_engine.expressions import (
    MAX_AST_NODES,
    MAX_EXPRESSION_LENGTH,
    MAX_LIST_LENGTH,
    MAX_NESTING_DEPTH,
    Rule,
    parse_rule,
)
from bounty_engine.schema import Feature, FeatureKind, FeatureSchema, LabelInfo, Task

SEXES = ["Female", "Male", "Other"]
RACES = ["Black", "Other", "White"]
OCCUPATIONS = ["Adm-clerical", "Other", "Sales", "Tech-support"]
CLASSES = ["Private", "Self-emp", "State-gov"]
NUMERIC = ["age", "hours", "capital-gain"]
CATEGORICAL = {"sex": SEXES, "race": RACES, "occupation": OCCUPATIONS, "class": CLASSES}


def _schema(numeric: list[str], categorical: dict[str, list[str] | None]) -> FeatureSchema:
    features = [Feature(name=n, kind=FeatureKind.NUMERIC) for n in numeric]
    features += [
        Feature(name=n, kind=FeatureKind.CATEGORICAL, categories=c) for n, c in categorical.items()
    ]
    return FeatureSchema(
        features=features, label=LabelInfo(name="y", task=Task.CLASSIFICATION, classes=[0, 1])
    )


SCHEMA = _schema(NUMERIC, dict(CATEGORICAL))


def _frame() -> pd.DataFrame:
    """Four people; the third has every value missing, in a different way per column."""
    return pd.DataFrame(
        {
            "age": [20.0, 55.0, np.nan, 40.0],
            "hours": pd.array([40, 60, None, 20], dtype="Int64"),
            "capital-gain": [0, 5000, 0, 10],
            "sex": pd.Series(["Female", "Female", None, "Male"], dtype="str"),
            "race": pd.Categorical(["White", "Black", None, "Other"]),
            "occupation": pd.Series(["Sales", "Tech-support", pd.NA, "Other"], dtype=object),
            "class": pd.Series(["Private", "State-gov", None, "Private"], dtype="string"),
        }
    ).set_axis([10, 3, 7, 0])


def _mask(text: str, frame: pd.DataFrame | None = None) -> list[bool]:
    result = parse_rule(text, SCHEMA).evaluate(_frame() if frame is None else frame)
    assert result.dtype == np.bool_
    return [bool(v) for v in result]


def _error(text: str, schema: FeatureSchema = SCHEMA) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_rule(text, schema)
    return info.value


# --- Accepted forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('sex == "Female" and age >= 50', [False, True, False, False]),
        ("18 <= age < 30", [True, False, False, False]),
        ('18 <= age < 30 or occupation in ("Sales", "Tech-support")', [True, True, False, False]),
        ("not (race == 'White')", [False, True, True, True]),
        ("`capital-gain` > 0", [False, True, False, True]),
        ("age > -5", [True, True, False, True]),
        ("age > -(-30)", [False, True, False, True]),
        ("hours >= +40.0", [True, True, False, False]),
        ("True", [True, True, True, True]),
        ("False", [False, False, False, False]),
        ("hours in [20, 60]", [False, True, False, True]),
        ("hours not in (20, 60)", [True, False, True, False]),
        ('`class` not in ["Private"]', [False, True, True, False]),
        ("race in ('Black',)", [False, True, False, False]),
        ("hours > age", [True, True, False, False]),
        (
            'sex == "Female" and not race == "White" or `capital-gain` == 10',
            [False, True, False, True],
        ),
        ("hours == True", [False, False, False, False]),
        ("age > 30 > hours", [False, False, False, True]),
        ("  age\n  > 30 # over thirty\n", [False, True, False, True]),
        ("(((age > 30)))", [False, True, False, True]),
        ("True and age > 30 or False", [False, True, False, True]),
    ],
)
def test_accepted_rules_evaluate_as_expected(text: str, expected: list[bool]) -> None:
    assert _mask(text) == expected


@pytest.mark.parametrize(
    ("text", "columns", "canonical"),
    [
        ("age>=50   and sex=='Female'", ("age", "sex"), 'age >= 50 and sex == "Female"'),
        ("18<=age<30", ("age",), "18 <= age < 30"),
        ("`capital-gain`>0", ("capital-gain",), "`capital-gain` > 0"),
        ("`age` > 0", ("age",), "age > 0"),
        ("`class` == 'Private'", ("class",), '`class` == "Private"'),
        ("not (age > 3)", ("age",), "not age > 3"),
        ("not (age > 3 or age < 1)", ("age",), "not (age > 3 or age < 1)"),
        ("(age > 1 and (age > 2 and age > 3))", ("age",), "age > 1 and age > 2 and age > 3"),
        ("(age > 1 or age > 2) and age > 3", ("age",), "(age > 1 or age > 2) and age > 3"),
        ("race in ['White', 'Black', 'White']", ("race",), 'race in ("Black", "White")'),
        ("hours in [3, 1.0, 1, True, -2]", ("hours",), "hours in (-2, 1.0, 3)"),
        ("sex != race and age < hours", ("age", "hours", "race", "sex"), None),
        ("age > 1e3 or age < .5", ("age",), "age > 1000.0 or age < 0.5"),
        ("True", (), "True"),
        ("not not False", (), "not not False"),
    ],
)
def test_columns_and_canonical(text: str, columns: tuple[str, ...], canonical: str | None) -> None:
    rule = parse_rule(text, SCHEMA)
    assert rule.columns == columns
    if canonical is not None:
        assert rule.canonical == canonical
    again = parse_rule(rule.canonical, SCHEMA)
    assert again == rule
    assert again.canonical == rule.canonical
    assert rule.text == text


def test_rule_is_immutable_and_compares_canonically() -> None:
    rule = parse_rule("age>3", SCHEMA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.text = "age > 4"  # type: ignore[misc]
    assert rule == parse_rule("(age  >  3)", SCHEMA)
    assert rule != parse_rule("age > 4", SCHEMA)
    assert len({rule, parse_rule("age > 3", SCHEMA), parse_rule("3 < age", SCHEMA)}) == 2
    assert isinstance(rule, Rule)


def test_backtick_placeholders_cannot_be_confused_with_typed_names() -> None:
    schema = _schema(["a", "___", "x y", "_private", "über"], {})
    # `a` becomes the placeholder ___ before parsing; it must still mean column "a".
    assert parse_rule("`a` > 1", schema).columns == ("a",)
    assert parse_rule("`___` > 1", schema).columns == ("___",)
    assert parse_rule("`x y` > 1 and `_private` < 2", schema).columns == ("_private", "x y")
    err = _error("___ > 1", schema)
    assert "'__'" in err.reason
    assert (err.line, err.column) == (1, 1)
    err = _error("age > 1 or _private > 1", _schema(["age", "_private"], {}))
    assert "backticks" in err.reason
    assert err.column == 12
    assert parse_rule("über > 1", schema).canonical == "über > 1"


def test_identifiers_match_exactly_then_by_nfkc() -> None:
    schema = _schema(["ﬁeld", "x²"], {})  # neither name is NFKC-normal
    rule = parse_rule("ﬁeld > 1", schema)  # Python's AST sees "field"
    assert rule.columns == ("ﬁeld",)
    assert rule.canonical == "`ﬁeld` > 1"
    assert parse_rule(rule.canonical, schema) == rule
    assert parse_rule("field > 1", schema).columns == ("ﬁeld",)
    frame = pd.DataFrame({"ﬁeld": [0, 2], "x²": [1, 1]})
    assert list(rule.evaluate(frame)) == [False, True]
    assert parse_rule("fi > 1", _schema(["ﬁ", "fi"], {})).columns == ("fi",)
    assert "ambiguous" in _error("fi > 1", _schema(["ﬁ", "ｆｉ"], {})).reason


def test_limits_are_enforced_but_reachable() -> None:
    ok = "age in (" + ", ".join(["1"] * MAX_LIST_LENGTH) + ")"
    assert parse_rule(ok, SCHEMA).canonical == "age in (1,)"
    err = _error("age in (" + ",".join(["1"] * (MAX_LIST_LENGTH + 1)) + ")")
    assert "too many values" in err.reason
    assert err.column == len("age in (") + 2 * MAX_LIST_LENGTH + 1
    nested = "(" * MAX_NESTING_DEPTH + "age > 1" + ")" * MAX_NESTING_DEPTH
    assert parse_rule(nested, SCHEMA).canonical == "age > 1"
    err = _error("(" * (MAX_NESTING_DEPTH + 1) + "age > 1" + ")" * (MAX_NESTING_DEPTH + 1))
    assert "nested too deeply" in err.reason
    assert err.column == MAX_NESTING_DEPTH + 1
    assert parse_rule("not " * MAX_NESTING_DEPTH + "True", SCHEMA).canonical.endswith("True")
    err = _error("not " * (MAX_NESTING_DEPTH + 1) + "True")
    assert "consecutive 'not'" in err.reason
    assert err.column == 4 * MAX_NESTING_DEPTH + 1
    longest = "age > 1" + " " * (MAX_EXPRESSION_LENGTH - 7)
    assert parse_rule(longest, SCHEMA).canonical == "age > 1"
    assert "too long" in _error(longest + " ").reason


def test_tree_size_and_depth_are_capped() -> None:
    schema = _schema(["x"], {})
    many = " or ".join(["x<1"] * 400)  # 400 comparisons: about 2,000 syntax nodes
    assert len(many) <= MAX_EXPRESSION_LENGTH
    assert f"more than {MAX_AST_NODES}" in _error(many, schema).reason
    deep = ("not " * 30 + "(x < 1 or ") * 4 + "x < 1" + ")" * 4
    assert "nested too deeply" in _error(deep, schema).reason
    compact = "x in(" + ",".join(str(i) for i in range(1000)) + ")"
    assert len(compact) <= MAX_EXPRESSION_LENGTH
    assert "once normalized" in _error(compact, schema).reason


def test_parsing_does_not_leak_python_warnings() -> None:
    schema = _schema(["hours", "age"], {"city": None})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked SyntaxWarning would now fail the parse
        rule = parse_rule("hours >1and age<3 or city == 'Pa\\q'", schema)
    assert rule.canonical == 'hours > 1 and age < 3 or city == "Pa\\\\q"'


# --- Hostile and malformed input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("__import__('os').system('x')", "function calls are not allowed", 1),
        ("age.__class__", "attribute access is not allowed", 4),
        ("open('/etc/passwd')", "function calls are not allowed", 1),
        ("x[0]", "subscripts are not allowed", 2),
        ("age > 1 and age[0] > 1", "subscripts are not allowed", 16),
        ("lambda: 1", "lambda is not allowed", 1),
        ("[a for a in b]", "comprehensions are not allowed", 1),
        ("age in (a for a in b)", "tuple or list", 8),
        ('f"{age}"', "f-strings are not allowed", 1),
        ("(age := 3)", "walrus", 2),
        ("age = 3", "'=' is not a comparison; use '=='", 5),
        ('sex = "a=b" and age > 1', "'=' is not a comparison", 5),  # not the '=' in the string
        ("age > 1 and\0 age < 3", "invalid character", 12),
        ("age if x else y", "conditional expressions", 1),
        ("age + 1 > 3", "operator '+' is not allowed", 5),
        ("(age) * 2 > 3", "operator '*' is not allowed", 7),
        ("age > 1 & age < 3", "operator '&' is not allowed", 9),
        ("~(age > 1)", "operator '~'", 1),
        ("*a", "syntax", 1),
        ("...", "'...' is not allowed", 1),
        ('b"bytes"', "bytes literals are not allowed", 1),
        ("age > 2j", "complex numbers", 7),
        ("None", "None is not allowed", 1),
        ("age == None", "None is not allowed", 8),
        ("age is None", "identity tests", 8),
        ("{1: 2}", "dict literals are not allowed", 1),
        ("{1, 2}", "set literals are not allowed", 1),
        ("age in {1, 2}", "tuple or list", 8),
        ("(age, sex)", "tuples and lists are only allowed", 1),
        ("age > 1 and", "the rule ends with 'and'", 9),
        ("age > 1 or   ", "the rule ends with 'or'", 9),
        ("not", "the rule ends with 'not'", 1),
        ("age > 1 and or age < 3", "'or' follows 'and'", 13),
        ("`capital-gain` > 1 and", "the rule ends with 'and'", 20),
        ("(age > 1", "syntax", 1),
        ("age > 1)", "syntax", 8),
        ("'unterminated", "unterminated string", 1),
        ("age > 1 and `capital-gain", "unterminated backtick", 13),
        ("`` > 1", "empty backtick", 1),
        ("not`age` > 1", "separate a backtick", 4),
        ("`age`.real > 1", "attribute access is not allowed", 6),
        ("age > 1e999", "out of range", 7),
        ("age == -True", "sign", 8),
        ("age == (not age)", "'not' applies to conditions", 9),
        ("sex == 'Fe\nmale'", "cannot span several lines", 11),
        ("", "empty", 1),
        ("  # only a comment", "empty", 1),
        ("yield", "syntax", 1),
    ],
)
def test_hostile_and_malformed_rules_are_refused_with_a_position(
    text: str, fragment: str, column: int
) -> None:
    err = _error(text)
    assert fragment in err.reason
    assert err.code == "invalid_expression"
    assert err.column == column
    assert err.line == text[: err.offset].count("\n") + 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x" * 1_000_000, "too long"),
        ("(" * 10_000 + ")" * 10_000, "too long"),
        ("not " * 10_000 + "True", "too long"),
        ("(" * 1900 + ")" * 1900, "nested too deeply"),
        ("[" * 1900 + "]" * 1900, "nested too deeply"),
        ("not " * 990 + "True", "consecutive"),
        ("-" * 3990 + "1 < age", "consecutive"),
        ("1+" * 1990 + "1 < age", "nested too deeply"),
        ("a." * 1990 + "b > 1", "nested too deeply"),
        ("age>1 or " * 440 + "True", "syntax nodes"),
        ("lambda: " * 400 + "1", "nested too deeply"),
    ],
)
def test_huge_inputs_fail_cleanly(text: str, fragment: str) -> None:
    err = _error(text)
    assert fragment in err.reason
    assert err.offset is not None


# --- Validation against the schema ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "line", "column"),
    [
        ("agee > 3", "unknown column 'agee'; did you mean 'age'?", 1, 1),
        ("age > 3 and\n  sexx == 'Male'", "did you mean 'sex'?", 2, 3),
        ("zzz > 3", "the columns are", 1, 1),
        (
            "sex == 'Femal'",
            "\"Femal\" is not a category of column 'sex'; did you mean 'Female'?",
            1,
            8,
        ),
        ("race in ('White', 'Blak')", "did you mean 'Black'?", 1, 19),
        ("race == 'Purple'", "its categories are", 1, 9),
        ("age == 'old'", "column 'age' is numeric", 1, 8),
        ("'old' < age", "column 'age' is numeric", 1, 1),
        ("hours in (1, '2')", "numeric", 1, 14),
        ("sex == 3", "column 'sex' is categorical", 1, 8),
        ("sex == True", "categorical", 1, 8),
        ("sex in ('Male', -1)", "categorical", 1, 17),
        ("sex < 'Male'", "'<' cannot be used on categorical column 'sex'", 1, 1),
        ("'Male' >= sex", "'>=' cannot be used on categorical column 'sex'", 1, 11),
        ("sex <= race", "'<=' cannot be used on categorical", 1, 1),
        ("age < sex", "cannot compare numeric column 'age' with categorical column 'sex'", 1, 1),
        ("1 < 2", "two constants", 1, 1),
        ("age > 1 and 'a' == 'a'", "two constants", 1, 13),
        ("age", "not a condition by itself; compare it with a value, e.g. age > 0", 1, 1),
        ("age > 1 or sex", 'e.g. sex == "Female"', 1, 12),
        ("3", "the constant 3 is not a condition", 1, 1),
        ("-3", "the constant -3 is not a condition", 1, 1),
        ("'Female'", "is not a condition", 1, 1),
        ("age in 3", "tuple or list", 1, 8),
        ("age in ages", "tuple or list", 1, 8),
        ("age not in []", "empty", 1, 12),
        ("age in (1, age)", "only constants", 1, 12),
        ("3 in (1, 2)", "left side of 'in' must be a column", 1, 1),
        ("1 < age in (1, 2)", "cannot be chained", 1, 1),
    ],
)
def test_schema_errors_name_the_problem_and_its_position(
    text: str, fragment: str, line: int, column: int
) -> None:
    err = _error(text)
    assert fragment in err.reason
    assert (err.line, err.column) == (line, column)
    assert f"(at line {line}, column {column})" in str(err)


def test_categorical_columns_without_known_categories_accept_any_string() -> None:
    schema = _schema([], {"city": None})
    rule = parse_rule("city == 'Paris' or city in ('Oslo',)", schema)
    frame = pd.DataFrame({"city": ["Paris", "Rome", "Oslo", None]})
    assert list(rule.evaluate(frame)) == [True, False, True, False]
    assert "categorical" in _error("city > 'Paris'", schema).reason


# --- Evaluation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["age", "hours", "sex", "race", "occupation", "class"])
def test_missing_values_match_nothing_except_negations(column: str) -> None:
    value = {"age": "20", "hours": "40", "sex": "'Female'", "race": "'White'"}.get(
        column, "'Other'" if column == "occupation" else "'Private'"
    )
    name = f"`{column}`"
    missing_row = 2
    assert _mask(f"{name} == {value}")[missing_row] is False
    assert _mask(f"{name} != {value}")[missing_row] is True
    assert _mask(f"{name} in ({value},)")[missing_row] is False
    assert _mask(f"{name} not in ({value},)")[missing_row] is True
    assert _mask(f"not ({name} == {value})") == _mask(f"{name} != {value}")
    assert _mask(f"not ({name} in ({value},))") == _mask(f"{name} not in ({value},)")
    if column in NUMERIC:
        for op in ("<", "<=", ">", ">="):
            assert _mask(f"{name} {op} {value}")[missing_row] is False
            assert _mask(f"{name} {op} {name}")[missing_row] is False


def test_column_to_column_comparisons_with_missing_values() -> None:
    frame = pd.DataFrame(
        {
            "age": [1.0, np.nan, 3.0, np.nan],
            "hours": pd.array([1, 2, None, None], dtype="Int64"),
            "sex": ["Other", None, "Male", None],
            "race": pd.Categorical(["Other", "Other", None, None]),
        }
    )
    assert _mask("age == hours", frame) == [True, False, False, False]
    assert _mask("age != hours", frame) == [False, True, True, True]
    assert _mask("age <= hours", frame) == [True, False, False, False]
    assert _mask("sex == race", frame) == [True, False, False, False]
    assert _mask("sex != race", frame) == [False, True, True, True]


def test_evaluate_needs_the_rule_columns_and_numeric_data() -> None:
    rule = parse_rule("age > 30 and sex == 'Male'", SCHEMA)
    with pytest.raises(ExpressionError, match="no column 'age'"):
        rule.evaluate(_frame().drop(columns=["age"]))
    with pytest.raises(DataError, match="should hold numbers"):
        rule.evaluate(_frame().assign(age=np.array(["old", "young", None, "old"], dtype=object)))
    texty = _frame().assign(age=pd.array(["20", "55", None, "40"], dtype="str"))
    assert list(rule.evaluate(texty)) == [False, False, False, True]
    assert parse_rule("True", SCHEMA).evaluate(pd.DataFrame(index=range(3))).tolist() == [True] * 3
    assert parse_rule("age > 1", SCHEMA).evaluate(_frame().iloc[:0]).shape == (0,)


def test_unusual_dtypes_are_handled() -> None:
    frame = pd.DataFrame(
        {
            "age": np.array([True, False, True]),
            "hours": pd.array([1.5, None, 3.0], dtype="Float64"),
            "capital-gain": np.array([2**62, 3, 0], dtype=np.int64),
            "sex": pd.Categorical([1, 2, None], categories=[1, 2]),  # compared as strings
            "race": [0.5, None, 2.0],
            "class": pd.array([True, None, False], dtype="boolean"),
        }
    )
    schema = _schema(["age", "hours", "capital-gain", "class"], {"sex": ["1", "2"], "race": None})

    def evaluate(text: str) -> list[bool]:
        return [bool(v) for v in parse_rule(text, schema).evaluate(frame)]

    assert evaluate("age == True") == [True, False, True]
    assert evaluate("hours > 1 and hours < 4") == [True, False, True]
    assert evaluate("hours != 1.5") == [False, True, True]
    assert evaluate(f"`capital-gain` in ({2**62}, {2**62 + 1})") == [True, False, False]
    assert evaluate(f"`capital-gain` > {2**64}") == [False, False, False]
    assert evaluate("`capital-gain` in (3.5, 3.0)") == [False, True, False]
    assert evaluate("sex == '1'") == [True, False, False]
    assert evaluate("sex not in ('2',)") == [True, False, True]
    assert evaluate("race == '0.5'") == [True, False, False]
    assert evaluate("race != 'nan'") == [True, True, True]
    assert evaluate("`class` == 1") == [True, False, False]
    assert evaluate("`class` not in (False,)") == [True, True, False]


def test_evaluation_on_a_million_rows_of_mixed_dtypes() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(17, 90, n).astype(float),
            "hours": rng.integers(1, 99, n),
            "sex": pd.Series(np.array(SEXES)[rng.integers(0, 3, n)], dtype="str"),
            "occupation": pd.Categorical(np.array(OCCUPATIONS)[rng.integers(0, 4, n)]),
        }
    )
    rule = parse_rule(
        'sex == "Female" and 18 <= age < 50 or occupation in ("Sales", "Other") and hours > 45',
        SCHEMA,
    )
    mask = rule.evaluate(frame)
    expected = (frame.sex.eq("Female") & frame.age.between(18, 50, inclusive="left")) | (
        frame.occupation.isin(["Sales", "Other"]) & frame.hours.gt(45)
    )
    assert np.array_equal(mask, expected.to_numpy())


# --- Property-based: random rules on random frames against a pandas reference -------------------

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NUMBERS = st.sampled_from([-3, -1.5, 0, 1, 2, 2.5, 5, 10, True, False])
Reference = Callable[[pd.DataFrame], "pd.Series[bool]"]


class Case(NamedTuple):
    """A random rule's text, an independent reference for its mask, and the columns it uses."""

    text: str
    reference: Reference
    columns: frozenset[str]


def _ref_pairs(a: pd.Series, op: str, b: pd.Series) -> pd.Series:
    """Row-wise ``a op b`` on Python objects where both are present; else only ``!=`` holds."""
    present = (a.notna() & b.notna()).to_numpy()
    out = np.full(len(a), op == "!=")
    pairs = zip(a[present].astype(object), b[present].astype(object), strict=True)
    out[present] = [bool(_OPS[op](x, y)) for x, y in pairs]
    return pd.Series(out, index=a.index)


def _ref_value(s: pd.Series, op: str, value: Any) -> pd.Series:
    return _ref_pairs(s, op, pd.Series(value, index=s.index, dtype=object))


def _ref_isin(s: pd.Series, values: list[Any], negated: bool) -> pd.Series:
    hit = s.notna() & s.astype(object).isin(values)
    return ~hit if negated else hit


def _name(draw: st.DrawFn, column: str) -> str:
    quote = not column.isidentifier() or column == "class" or draw(st.booleans())
    return f"`{column}`" if quote else column


def _literal(draw: st.DrawFn, value: Any) -> str:
    if isinstance(value, str):
        return draw(st.sampled_from([f"'{value}'", f'"{value}"']))
    return repr(value)


@st.composite
def _numeric_comparisons(draw: st.DrawFn) -> Case:
    col, op, value = (
        draw(st.sampled_from(NUMERIC)),
        draw(st.sampled_from(list(_OPS))),
        draw(NUMBERS),
    )
    if draw(st.booleans()):
        text = f"{_name(draw, col)} {op} {_literal(draw, value)}"
    else:
        text = f"{_literal(draw, value)} {_FLIP[op]} {_name(draw, col)}"
    return Case(text, lambda f: _ref_value(f[col], op, value), frozenset({col}))


@st.composite
def _chains(draw: st.DrawFn) -> Case:
    col, low, high = draw(st.sampled_from(NUMERIC)), draw(NUMBERS), draw(NUMBERS)
    op1, op2 = draw(st.sampled_from(["<", "<="])), draw(st.sampled_from(["<", "<="]))
    text = f"{_literal(draw, low)} {op1} {_name(draw, col)} {op2} {_literal(draw, high)}"

    def reference(f: pd.DataFrame) -> pd.Series:
        return _ref_value(f[col], _FLIP[op1], low) & _ref_value(f[col], op2, high)

    return Case(text, reference, frozenset({col}))


@st.composite
def _categorical_comparisons(draw: st.DrawFn) -> Case:
    col = draw(st.sampled_from(list(CATEGORICAL)))
    op, value = draw(st.sampled_from(["==", "!="])), draw(st.sampled_from(CATEGORICAL[col]))
    text = f"{_name(draw, col)} {op} {_literal(draw, value)}"
    return Case(text, lambda f: _ref_value(f[col], op, value), frozenset({col}))


@st.composite
def _column_comparisons(draw: st.DrawFn) -> Case:
    pool = draw(st.sampled_from([NUMERIC, list(CATEGORICAL)]))
    a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
    op = draw(st.sampled_from(list(_OPS) if pool is NUMERIC else ["==", "!="]))
    text = f"{_name(draw, a)} {op} {_name(draw, b)}"
    return Case(text, lambda f: _ref_pairs(f[a], op, f[b]), frozenset({a, b}))


@st.composite
def _memberships(draw: st.DrawFn) -> Case:
    col = draw(st.sampled_from([*NUMERIC, *CATEGORICAL]))
    pool = st.sampled_from(CATEGORICAL[col]) if col in CATEGORICAL else NUMBERS
    values = draw(st.lists(pool, min_size=1, max_size=4))
    negated = draw(st.booleans())
    opening, closing = draw(st.sampled_from([("(", ")"), ("[", "]")]))
    items = ", ".join(_literal(draw, v) for v in values) + ("," if len(values) == 1 else "")
    word = "not in" if negated else "in"
    text = f"{_name(draw, col)} {word} {opening}{items}{closing}"
    return Case(text, lambda f: _ref_isin(f[col], values, negated), frozenset({col}))


def _literals(value: bool) -> Case:
    return Case(repr(value), lambda f: pd.Series(value, index=f.index), frozenset())


def _negation(case: Case) -> Case:
    return Case(f"not ({case.text})", lambda f: ~case.reference(f), case.columns)


def _junction(word: str, cases: list[Case]) -> Case:
    def reference(f: pd.DataFrame) -> pd.Series:
        masks = [case.reference(f) for case in cases]
        return functools.reduce(operator.and_ if word == "and" else operator.or_, masks)

    text = f" {word} ".join(f"({case.text})" for case in cases)
    return Case(text, reference, frozenset().union(*(case.columns for case in cases)))


def _extend(children: st.SearchStrategy[Case]) -> st.SearchStrategy[Case]:
    groups = st.lists(children, min_size=2, max_size=3)
    return st.one_of(
        children.map(_negation),
        groups.map(functools.partial(_junction, "and")),
        groups.map(functools.partial(_junction, "or")),
    )


LEAVES = st.one_of(
    _numeric_comparisons(),
    _chains(),
    _categorical_comparisons(),
    _column_comparisons(),
    _memberships(),
    st.booleans().map(_literals),
)
RULES = st.recursive(LEAVES, _extend, max_leaves=8)


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    """Random rows, with every kind of missing value and several dtypes."""
    n = draw(st.integers(0, 25))

    def column(values: st.SearchStrategy[Any], missing: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(st.one_of(values, missing), min_size=n, max_size=n))

    def some(options: list[Any]) -> st.SearchStrategy[Any]:
        return st.sampled_from(options)

    small = some([-3, -1.5, 0, 1, 2, 2.5, 5, 10])
    frame = pd.DataFrame(
        {
            "age": pd.array(column(small, st.just(np.nan)), dtype="float64"),
            "hours": pd.array(column(st.integers(-3, 10), st.none()), dtype="Int64"),
            "capital-gain": pd.array(column(st.integers(-3, 10), st.nothing()), dtype="int64"),
            "sex": pd.array(column(some(SEXES), st.none()), dtype="str"),
            "race": pd.Categorical(column(some(RACES), st.none())),
            "occupation": pd.array(
                column(some(OCCUPATIONS), some([None, np.nan, pd.NA])), dtype=object
            ),
            "class": pd.array(column(some(CLASSES), st.none()), dtype="string"),
        }
    )
    return frame.set_axis(draw(st.permutations(range(100, 100 + n))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=RULES, frame=_frames())
def test_random_rules_match_a_pandas_reference(case: Case, frame: pd.DataFrame) -> None:
    rule = parse_rule(case.text, SCHEMA)
    mask = rule.evaluate(frame)
    assert mask.dtype == np.bool_
    assert mask.shape == (len(frame),)
    assert mask.tolist() == case.reference(frame).tolist()
    assert rule.columns == tuple(sorted(case.columns))
    again = parse_rule(rule.canonical, SCHEMA)
    assert again == rule
    assert again.canonical == rule.canonical
    assert again.columns == rule.columns
    assert np.array_equal(again.evaluate(frame), mask)


TOKENS = [
    "age", "sex", "race", "`capital-gain`", "`class`", "hours", "==", "!=", "<", "<=", ">", "in",
    "not", "and", "or", "(", ")", "[", "]", ",", "'Female'", '"White"', "3", "-", "2.5", "True",
    "None", ".", "__class__", "`", "'", '"', "lambda", ":", "+", "*", "#", "\n", " ", "_", "\\",
    "if", "else", "{", "}", ":=", "f'", "1e999", "ages",
]  # fmt: skip


def _parse_or_error(text: str) -> Rule | ExpressionError:
    try:
        return parse_rule(text, SCHEMA)
    except ExpressionError as err:
        return err


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join), st.text(max_size=60))
)
def test_arbitrary_text_gives_a_rule_or_an_expression_error(text: str) -> None:
    result = _parse_or_error(text)
    if isinstance(result, ExpressionError):
        assert result.reason
        assert result.offset is None or 0 <= result.offset <= len(text)
        return
    assert result.evaluate(_frame()).shape == (4,)
    assert parse_rule(result.canonical, SCHEMA) == result
