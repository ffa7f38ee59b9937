"""Every ORM model, imported once so that the metadata (and Alembic) sees all tables."""

from app.auth.models import AccessToken, ApiKey, Role, User
from app.core.audit import AuditEvent
from app.core.db import Base
from app.populations.models import Deployer, Population, PopulationOutput, WatchedGroup
from app.rounds.models import Disclosure, ModelVersion, Round, RoundStatus
from app.submissions.models import Submission, SubmissionStatus
from app.teams.models import Team, TeamMember

__all__ = [
    "AccessToken",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Deployer",
    "Disclosure",
    "ModelVersion",
    "Population",
    "PopulationOutput",
    "Role",
    "Round",
    "RoundStatus",
    "Submission",
    "SubmissionStatus",
    "Team",
    "TeamMember",
    "User",
    "WatchedGroup",
]
