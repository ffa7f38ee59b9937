"""The API app for in-process tests: built once per test process and shape of settings, and
lent to one test at a time with all its state new.

FastAPI builds an included route's handler (the validators of its parameters, dependencies and
response model) the first time an app routes a request through its router: about 60 ms of CPU
for each new app, more than most API tests spend on their own requests. An app lent again gets
new settings, database sessions, store, caches, rate limits and notifier
(``app.main.attach_state``); only its routes and middleware, which ``create_app`` built from
settings that the shape says were the same, are kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.core.frontend import web_app_built
from app.core.notify import Notifier
from app.core.settings import Settings
from app.core.storage import ArtifactStore
from app.main import attach_state, create_app

_free: defaultdict[str, list[FastAPI]] = defaultdict(list)
"""Built apps not lent right now, by shape."""


def shape(settings: Settings) -> str:
    """What of ``settings`` an app's routes and middleware may depend on: all of it but where
    the database and the artifacts are (the app is given their sessions and store), and where
    the web app is unless it is built there."""
    where = {"database_url", "storage_dir", "frontend_dir"}
    fields = settings.model_dump(mode="json", exclude=where)
    built = web_app_built(settings.frontend_dir)
    return json.dumps([fields, str(settings.frontend_dir) if built else None], sort_keys=True)


@contextmanager
def lent_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session],
    store: ArtifactStore,
    notifier: Notifier | None = None,
) -> Iterator[FastAPI]:
    """An app as ``create_app`` makes it for these arguments, for the ``with`` block only
    (two apps lent at once are two apps)."""
    free = _free[shape(settings)]
    if free:
        app = free.pop()
        attach_state(app, settings, session_factory=session_factory, store=store, notifier=notifier)
    else:
        app = create_app(settings, session_factory=session_factory, store=store, notifier=notifier)
    try:
        yield app
    finally:
        free.append(app)
