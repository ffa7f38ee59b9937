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


@dataclass(frozen=True)
class DemoAccounts:
    """Sign-in details printed by ``bounty demo`` (development only)."""

    organizer: tuple[str, str] = DEMO_ORGANIZER
    researcher: tuple[str, str] = DEMO_RESEARCHER
    slug: str = DEMO_SLUG


def _user(session: Session, email: str, password: str, name: str, role: Role) -> User:
    user = session.scalar(select(User).where(User.email == email))
    return user if user is not None else create_user(session, email, name, password, role)


def seed_demo(session: Session, store: ArtifactStore) -> DemoAccounts:
    """Create the demo accounts, team and open round if they are missing (idempotent)."""
    organizer = _user(session, *DEMO_ORGANIZER, "Demo organizer", Role.ORGANIZER)
    researcher = _user(session, *DEMO_RESEARCHER, "Demo researcher", Role.PARTICIPANT)
    if session.scalar(select(Round.id).where(Round.slug == DEMO_SLUG)) is not None:
        return DemoAccounts()
    round_ = service.create_round(
        session,
        organizer,
        RoundCreate(
            title="Adult income (demo)",
            slug=DEMO_SLUG,
            description=DEMO_DESCRIPTION,
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
    base_model.train_base_model(session, store, round_, organizer)
    service.open_round(session, store, round_, organizer)
    create_team(session, researcher, round_, "Demo team")
    return DemoAccounts()
