"""The embedded default's demo: accounts and an open round on UCI Adult, created once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.service import create_user
from app.core.storage import ArtifactStore
from app.rounds import base_model, datasets, service
from app.rounds.models import Round
from app.rounds.schemas import RoundCreate
from app.teams.service import create_team
from bounty_engine.datasets.adult import ADULT_LABEL, ADULT_PATH
from bounty_engine.datasets.adult_demo import DEMO_RULES, DEMO_SEED, DEMO_SPLIT
from bounty_engine.losses import LossKind

DEMO_SLUG = "adult-income-demo"
DEMO_ORGANIZER = ("organizer@demo.biasbounty.local", "demo-organizer-password")
DEMO_RESEARCHER = ("researcher@demo.biasbounty.local", "demo-researcher-password")
DEMO_DESCRIPTION = """\
A demo round on the **UCI Adult** census data (CC BY 4.0; Ron Kohavi and Barry Becker).

The deployed model is a logistic regression that predicts whether a person earns more than
$50K a year. Find the groups of people it gets wrong, and submit a model that does better for
them. Try `capital_gain > 0`. A pair is accepted only when its improvement on the group is
statistically credible (see the rules below): on a large group such as
`marital_status == "Married-civ-spouse"`, h must fix clearly more rows than it breaks.
"""

COST_DEMO_SLUG = "adult-income-costs"
COST_DEMO_COSTS = [[0, 3], [1, 0]]
"""Truth first, prediction second, classes in sorted order (``<=50K``, ``>50K``)."""
COST_DEMO_DESCRIPTION = """\
The same **UCI Adult** data and base model as the first demo round, scored by what its errors
cost people rather than by their number.

Suppose the model screens applicants for a benefit meant for people earning at most $50K a
year. Predicting `>50K` for someone who earns less wrongly denies them the benefit: that costs
**3**. Predicting `<=50K` for someone who earns more grants a benefit they did not need: that
costs **1**. A pair is accepted when it lowers the group's total cost credibly, so a patch that
trades missed benefits for a few more unneeded ones can win here where it would lose on plain
error counts. Verdicts show the group's false-positive and false-negative rates before and
after.
"""


@dataclass(frozen=True)
class DemoAccounts:
    """Sign-in details printed by ``bounty demo`` (development only)."""

    organizer: tuple[str, str] = DEMO_ORGANIZER
    researcher: tuple[str, str] = DEMO_RESEARCHER
    slug: str = DEMO_SLUG
    cost_slug: str = COST_DEMO_SLUG


def _user(session: Session, email: str, password: str, name: str, role: Role) -> User:
    user = session.scalar(select(User).where(User.email == email))
    return user if user is not None else create_user(session, email, name, password, role)


def seed_demo(session: Session, store: ArtifactStore) -> DemoAccounts:
    """Create the demo accounts, and the two open demo rounds with the researcher's team in
    each, if they are missing (idempotent)."""
    organizer = _user(session, *DEMO_ORGANIZER, "Demo organizer", Role.ORGANIZER)
    researcher = _user(session, *DEMO_RESEARCHER, "Demo researcher", Role.PARTICIPANT)
    first = session.scalar(select(Round).where(Round.slug == DEMO_SLUG))
    if first is None:
        first = _demo_round(session, store, organizer, researcher, DEMO_SLUG)
    if session.scalar(select(Round.id).where(Round.slug == COST_DEMO_SLUG)) is None:
        _demo_round(session, store, organizer, researcher, COST_DEMO_SLUG, base_of=first)
    return DemoAccounts()


def _demo_round(
    session: Session,
    store: ArtifactStore,
    organizer: User,
    researcher: User,
    slug: str,
    *,
    base_of: Round | None = None,
) -> Round:
    """An open demo round on Adult: the plain one, or (``base_of`` given) the cost-weighted one,
    which takes that round's base model rather than training the same one again."""
    costs = slug == COST_DEMO_SLUG
    round_ = service.create_round(
        session,
        organizer,
        RoundCreate(
            title="Adult income, priced errors (demo)" if costs else "Adult income (demo)",
            slug=slug,
            description=COST_DEMO_DESCRIPTION if costs else DEMO_DESCRIPTION,
            loss=LossKind.COST if costs else LossKind.ZERO_ONE,
            loss_costs=COST_DEMO_COSTS if costs else None,
            alpha=DEMO_RULES.alpha,
            min_group_rows=DEMO_RULES.min_group_rows,
            repair_alpha=DEMO_RULES.repair_alpha,
            acceptance_test=DEMO_RULES.acceptance_test,
            daily_quota=50,
        ),
    )
    session.flush()
    spec = datasets.SplitSpec(label=ADULT_LABEL, fractions=DEMO_SPLIT, seed=DEMO_SEED)
    datasets.import_table(session, store, round_, organizer, path=ADULT_PATH, spec=spec)
    if base_of is not None and base_of.base_model_sha is not None:
        with store.local_copy(base_of.base_model_sha) as model:
            base_model.upload_base_model(session, store, round_, organizer, model)
    else:
        base_model.train_base_model(session, store, round_, organizer)
    service.open_round(session, store, round_, organizer)
    create_team(session, researcher, round_, "Demo team")
    return round_
