"""The problems of deployment populations (see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class NotDeployer(Problem):
    status, slug, title = 403, "not-deployer", "Not allowed to add populations to this round"


class PopulationNotFound(Problem):
    status, slug, title = 404, "population-not-found", "Population not found"


class PopulationNameTaken(Problem):
    status, slug, title = 409, "population-name-taken", "Population name taken"


class DeployerNotFound(Problem):
    status, slug, title = 404, "deployer-not-found", "No such user"


class WatchedGroupNotFound(Problem):
    status, slug, title = 404, "watched-group-not-found", "Watched group not found"
