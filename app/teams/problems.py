"""The problems of teams (RFC 9457; see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class OrganizerCannotEnter(Problem):
    status, slug, title = 403, "organizer-cannot-enter", "Organizers cannot enter their own round"


class TeamRequired(Problem):
    status, slug, title = 403, "team-required", "Team required"


class InviteCodeNotFound(Problem):
    status, slug, title = 404, "invite-code-not-found", "Invite code not found"


class NoTeam(Problem):
    status, slug, title = 404, "no-team", "Not in a team"


class NotATeamMember(Problem):
    status, slug, title = 404, "not-a-team-member", "Not a member of the team"


class TeamNotFound(Problem):
    status, slug, title = 404, "team-not-found", "Team not found"


class AlreadyInTeam(Problem):
    status, slug, title = 409, "already-in-team", "Already in a team"


class TeamFull(Problem):
    status, slug, title = 409, "team-full", "Team full"


class TeamHasSubmissions(Problem):
    status, slug, title = 409, "team-has-submissions", "Team has submissions"


class TeamNameTaken(Problem):
    status, slug, title = 409, "team-name-taken", "Team name taken"


class InvalidTeamName(Problem):
    status, slug, title = 422, "invalid-team-name", "Invalid team name"
