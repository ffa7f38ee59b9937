"""The pointer decision list: version semantics and the rules for appending nodes."""

from __future__ import annotations

import pytest

from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.pdl import PatchNode, PointerDecisionList, PointerNode
from tests.engine.tiny import FRAME, SCHEMA, constant_model


def test_versions_apply_nodes_newest_first() -> None:
    old = RuleGroup.parse('sex == "F"', SCHEMA)
    model = PointerDecisionList(constant_model(0), SCHEMA.label)
    assert model.append(PatchNode("f", old, constant_model(1))) == 1
    older = RuleGroup.parse("age >= 50", SCHEMA)
    assert model.append(PatchNode("old", older, constant_model(0))) == 2
    assert model.append(PointerNode("f", old, 1)) == 3
    x = prepare_features(FRAME, SCHEMA)  # ages 20 35 50 65, sexes F M F M
    assert model.predict(x, version=0).tolist() == [0, 0, 0, 0]
    assert model.predict(x, version=1).tolist() == [1, 0, 1, 0]
    assert model.predict(x, version=2).tolist() == [1, 0, 0, 0]
    assert model.predict(x).tolist() == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="does not exist"):
        model.predict(x, version=4)


def test_pointer_rules() -> None:
    group = RuleGroup.parse("age > 30", SCHEMA)
    model = PointerDecisionList(constant_model(0), SCHEMA.label)
    with pytest.raises(ValueError, match="repeat its patch"):
        model.append(PointerNode("nobody", group, 0))
    model.append(PatchNode("a", group, constant_model(1)))
    with pytest.raises(ValueError, match="repeat its patch"):
        model.append(PointerNode("a", RuleGroup.parse("age > 31", SCHEMA), 0))
    with pytest.raises(ValueError, match="does not exist"):
        model.append(PointerNode("a", group, 2))
    with pytest.raises(ValueError, match="already in the list"):
        model.append(PatchNode("a", group, constant_model(0)))
    assert model.head_version == 1
