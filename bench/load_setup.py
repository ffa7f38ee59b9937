"""Set-up for the load test, through the HTTP API as real users would: an open round on
seeded synthetic data, participant accounts in teams, and the pairs submitters will send."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from argon2 import PasswordHasher
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from app.auth.models import User
from app.core.db import make_engine, make_session_factory, transaction
from bounty_client import BountyClient
from bounty_engine.baseline import ordinal_features
from bounty_engine.data import label_values, prepare_features
from bounty_engine.datasets.synthetic import LABEL, make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model

PASSWORD = "load-test-password"  # noqa: S105 - a throwaway account on a loopback server
EXTRA_RULES = ('c1 == "a"', "x2 > 1", 'x0 < 0 and c0 == "b"', "x3 < -0.5")
T = TypeVar("T")


@dataclass(frozen=True)
class Participant:
    """A signed-in participant: the API process it talks to and its bearer secret."""

    base_url: str
    secret: str
    team: int

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass(frozen=True)
class Pair:
    """A pair (g, h) as a ready multipart body."""

    rule: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Population:
    """Everything the load phase needs."""

    slug: str
    organizer: Participant
    submitters: list[Participant]
    pollers: list[Participant]
    pairs: list[Pair]


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


def sign_in(http: httpx.Client, base_url: str, email: str, password: str) -> str:
    """An access token."""
    answer = http.post(
        f"{base_url}/api/v1/auth/token", data={"username": email, "password": password}
    )
    return str(_ok(answer)["access_token"])


def _parallel(work: Callable[[int], T], count: int) -> list[T]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(work, range(count)))


def open_round(base_url: str, organizer: tuple[str, str], rows: int) -> tuple[str, str]:
    """An open round on ``rows`` synthetic rows with a high daily quota; (slug, token)."""
    with httpx.Client(timeout=300) as http:
        token = sign_in(http, base_url, *organizer)
    with (
        BountyClient(base_url, api_key=token, timeout=300) as org,
        tempfile.TemporaryDirectory(prefix="bounty-load-") as tmp,
    ):
        csv = Path(tmp) / "synthetic.csv"
        make_synthetic(rows, n_planted=6, seed=0).frame.to_csv(csv, index=False)
        settings = {"title": f"Load {uuid.uuid4().hex[:6]}", "alpha": 0.0005}
        settings |= {"min_group_rows": 20, "daily_quota": 10_000, "max_team_size": 1000}
        slug = org.create_round(settings).slug
        org.upload_dataset(slug, label=LABEL, file=csv)
        org.set_base_model(slug)
        org.set_status(slug, "open")
    return slug, token


def seed_accounts(database_url: str, names: Sequence[str]) -> list[str]:
    """Participant accounts written straight to the database; their emails.

    Their password hash is argon2id with the cheapest parameters (as the tests' fixture does):
    signing up through the API costs two full-strength hashes per account, which for hundreds
    of accounts on a small machine would take longer than the load itself. Signing in still
    goes through the API (argon2 verifies with the parameters stored in the hash).
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    run = uuid.uuid4().hex[:8]
    emails = [f"{name}-{run}@load.bench" for name in names]
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            session.add_all(
                User(email=email, display_name=name, password_hash=cheap)
                for email, name in zip(emails, names, strict=True)
            )
    finally:
        engine.dispose()
    return emails


def participants(
    api_urls: Sequence[str], database_url: str, slug: str, n_submitters: int, n_pollers: int
) -> tuple[list[Participant], list[Participant]]:
    """Submitters, each with a team of their own, and pollers who join those teams in turn
    (half of them use an API key, half an access token); spread over the API processes."""
    emails = seed_accounts(
        database_url,
        [f"submitter{i}" for i in range(n_submitters)] + [f"poller{i}" for i in range(n_pollers)],
    )

    def submitter(i: int) -> tuple[Participant, str]:
        base = api_urls[i % len(api_urls)]
        with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as http:
            token = sign_in(http, base, emails[i], PASSWORD)
            auth = {"Authorization": f"Bearer {token}"}
            team = _ok(http.post(f"/rounds/{slug}/teams", json={"name": f"team {i}"}, headers=auth))
        return Participant(base, token, int(team["id"])), str(team["invite_code"])

    made = _parallel(submitter, n_submitters)

    def poller(i: int) -> Participant:
        base = api_urls[i % len(api_urls)]
        with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as http:
            secret = sign_in(http, base, emails[n_submitters + i], PASSWORD)
            auth = {"Authorization": f"Bearer {secret}"}
            if i % 2:
                key = http.post("/me/api-keys", json={"name": "load"}, headers=auth)
                secret = str(_ok(key)["key"])
                auth = {"Authorization": f"Bearer {secret}"}
            code = made[i % n_submitters][1]
            team = _ok(http.post("/teams/join", json={"invite_code": code}, headers=auth))
        return Participant(base, secret, int(team["id"]))

    return [p for p, _ in made], _parallel(poller, n_pollers)


def pairs(base_url: str, slug: str, participant: Participant) -> list[Pair]:
    """Pairs to submit: the planted groups (accepted the first time, after that rejected as no
    improvement) and a few others, each with a depth-4 tree fit on the group's train rows."""
    with BountyClient(base_url, api_key=participant.secret) as client:
        schema = client.schema(slug)
        train = client.train_data(slug)
    features = prepare_features(train, schema)
    labels = label_values(train, schema)
    planted = [g.expression for g in make_synthetic(100, n_planted=6, seed=0).planted]
    made = []
    for rule in [*planted, *EXTRA_RULES]:
        mask = RuleGroup.parse(rule, schema).mask(features)
        tree = Pipeline(
            [("features", ordinal_features(schema)), ("tree", DecisionTreeClassifier(max_depth=4))]
        )
        tree.fit(features.loc[mask], labels[mask])
        files = {"model": ("h.skops", dump_sklearn_model(tree))}
        encoded = httpx.Request("POST", base_url, data={"group_expression": rule}, files=files)
        made.append(Pair(rule, encoded.read(), encoded.headers["Content-Type"]))
    return made


def populate(
    api_urls: Sequence[str],
    database_url: str,
    organizer: tuple[str, str],
    *,
    rows: int,
    n_submitters: int,
    n_pollers: int,
) -> Population:
    """The round, the accounts and the pairs."""
    slug, token = open_round(api_urls[0], organizer, rows)
    submitters, pollers = participants(api_urls, database_url, slug, n_submitters, n_pollers)
    return Population(
        slug,
        Participant(api_urls[0], token, 0),
        submitters,
        pollers,
        pairs(api_urls[0], slug, submitters[0]),
    )
