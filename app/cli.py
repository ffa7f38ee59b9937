"""The server's ``bounty`` commands (``demo``, ``api``, ``worker``, ``db``, ...).

Each command imports what it needs when it runs: the ``bounty`` command registers these on every
start, also for commands that only talk to a server, and the server's stack (FastAPI, SQLAlchemy,
scikit-learn) would cost seconds there.
"""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bounty_client.entry import with_plugin

# The server's commands; ``register`` adds them to the ``bounty`` command (an entry point in
# the ``bounty.commands`` group: bounty_client.entry).
server_commands = typer.Typer()
console = Console()


@server_commands.command()
def version() -> None:
    """Print the version."""
    from app import __version__

    console.print(__version__)


@server_commands.command()
def openapi(
    out: Annotated[
        Path | None, typer.Option(help="Write it to this file instead of standard output.")
    ] = None,
) -> None:
    """Print the API's OpenAPI document (JSON); the web app's types are generated from it."""
    from app.core.settings import Settings
    from app.core.storage import LocalStore
    from app.main import create_app

    with tempfile.TemporaryDirectory(prefix="bounty-openapi-") as tmp:
        settings = Settings(database_url="sqlite://", storage_dir=Path(tmp))
        document = create_app(settings, store=LocalStore(Path(tmp))).openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


db = typer.Typer(help="Database commands.", no_args_is_help=True)
server_commands.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    from sqlalchemy.engine import make_url

    from app.core.migrate import upgrade
    from app.core.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    console.print(f"database at {make_url(url).render_as_string(hide_password=True)} is up to date")


@server_commands.command("create-organizer")
def create_organizer(
    email: Annotated[str, typer.Argument(help="The organizer's email (their sign-in name).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Organizer",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create an organizer account (the first organizer comes from here)."""
    from app.auth.models import Role
    from app.auth.service import create_user
    from app.core.db import engine_from_settings, make_session_factory, transaction
    from app.core.errors import Problem
    from app.core.migrate import upgrade
    from app.core.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    factory = make_session_factory(engine_from_settings(settings))
    try:
        with transaction(factory) as session:
            user = create_user(session, email, name, password, Role.ORGANIZER)
    except Problem as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"organizer {user.email} created (id {user.id})")


@server_commands.command()
def api(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Serve the API (migrate first with `bounty db upgrade`)."""
    import uvicorn

    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


@server_commands.command()
def worker(
    once: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
) -> None:
    """Run an evaluation worker (any number may run, on any machine)."""
    from app.core.settings import get_settings
    from app.worker.main import run_worker

    run_worker(get_settings(), once=once)


@server_commands.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """The embedded default: migrate, create the demo round on UCI Adult if missing, then serve
    the API with ``embedded_workers`` evaluation workers (SQLite file and local artifact
    directory)."""
    import uvicorn

    from app.core.db import engine_from_settings, make_session_factory, transaction
    from app.core.migrate import upgrade
    from app.core.notify import Notifier
    from app.core.settings import get_settings
    from app.core.storage import make_store
    from app.main import create_app
    from app.seed import seed_demo
    from app.worker.runner import Worker

    settings = get_settings()
    if settings.environment != "development":
        console.print(
            "[red]error:[/red] the demo (with its published passwords) is for development"
        )
        raise typer.Exit(1)
    upgrade(settings.database_url)
    factory = make_session_factory(engine_from_settings(settings))
    store = make_store(settings)
    with (
        console.status("Preparing the demo round on UCI Adult (first run: about a minute)..."),
        transaction(factory) as session,
    ):
        accounts = seed_demo(session, store)
    stop = threading.Event()
    notifier = Notifier()  # a new submission wakes the workers at once, a verdict the streams
    first = Worker(factory, store, settings, notifier=notifier)
    workers = [first] + [
        Worker(factory, store, settings, notifier=notifier, cache=first.cache)
        for _ in range(settings.embedded_workers - 1)
    ]
    worker_threads = [
        threading.Thread(target=worker.run, args=(stop,), name=f"worker-{i}", daemon=True)
        for i, worker in enumerate(workers)
    ]
    for thread in worker_threads:
        thread.start()
    url = f"http://{host}:{port}"
    console.print(f"[bold]Bias Bounty[/bold] demo at {url}  (API docs: {url}/docs)")
    console.print(f"  round:      {url}/api/v1/rounds/{accounts.slug}")
    console.print(f"  costs:      {url}/api/v1/rounds/{accounts.cost_slug} (a cost matrix)")
    console.print(f"  organizer:  {accounts.organizer[0]} / {accounts.organizer[1]}")
    console.print(f"  researcher: {accounts.researcher[0]} / {accounts.researcher[1]}")
    try:
        uvicorn.run(
            create_app(settings, session_factory=factory, store=store, notifier=notifier),
            host=host,
            port=port,
        )
    finally:
        stop.set()
        notifier.notify()
        for thread in worker_threads:
            thread.join(timeout=settings.sandbox_wall_seconds)


@server_commands.command("engine-demo")
def engine_demo(
    bundle: Annotated[
        Path | None,
        typer.Option(help="Where to write the exported model bundle (default: a temporary file)."),
    ] = None,
) -> None:
    """Run the demo round on UCI Adult in memory (no server) and export its model."""
    import numpy as np

    from app.demo import build_demo_round
    from bounty_engine.bundle import export_bundle, load_bundle

    with console.status("Training the base model and deciding the demo submissions..."):
        demo_round = build_demo_round()
    bounty = demo_round.round
    table = Table(title="Demo round on UCI Adult: verdicts in arrival order")
    table.add_column("#", justify="right")
    table.add_column("team and group")
    table.add_column("verdict")
    table.add_column("score", justify="right")
    table.add_column("holdout error", justify="right")
    for i, (sub, decision) in enumerate(zip(bounty.submissions, bounty.decisions, strict=True), 1):
        stats = decision.stats.get("holdout")
        table.add_row(
            str(i),
            f"[bold]{demo_round.teams[sub.key]}[/bold]\n{sub.group.spec().get('expression', '')}",
            decision.reason.value.replace("_", " "),
            f"{stats.score:+.4f}" if stats else "-",
            f"{decision.loss_after['holdout']:.4f}" if decision.loss_after else "-",
        )
    console.print(table)
    credit: dict[str, float] = {}
    for decision in bounty.decisions:
        if decision.accepted:
            team = demo_round.teams[decision.key]
            credit[team] = credit.get(team, 0.0) + decision.stats["holdout"].score
    board = Table(title="Leaderboard: credited improvement on the holdout")
    board.add_column("rank", justify="right")
    board.add_column("team")
    board.add_column("improvement", justify="right")
    ranked = sorted(credit.items(), key=lambda item: -item[1])
    for rank, (team, total) in enumerate(ranked, 1):
        board.add_row(str(rank), team, f"{total:.4f}")
    console.print(board)
    base, head = bounty.evaluator.versions_[0].loss, bounty.evaluator.versions_[-1].loss
    for split in ("holdout", "test"):
        console.print(f"{split:>8} error: base {base[split]:.4f} -> head {head[split]:.4f}")
    target = bundle or Path(tempfile.mkdtemp(prefix="bounty-demo-")) / "model.zip"
    export_bundle(bounty.model, bounty.schema, target, {"round": "demo-adult"})
    loaded = load_bundle(target)
    same = np.array_equal(
        loaded.model.predict_codes(bounty.features["holdout"]),
        bounty.evaluator.head_predictions("holdout"),
    )
    console.print(
        f"Exported version {bounty.model.head_version} to {target}; "
        f"reloaded bundle matches cached predictions: {same}"
    )


def register(root: typer.Typer) -> None:
    """Add the server's commands to the ``bounty`` command."""
    root.registered_commands.extend(server_commands.registered_commands)
    root.registered_groups.extend(server_commands.registered_groups)


cli = with_plugin(register)  # the whole command, for ``python -m app.cli`` and tests


if __name__ == "__main__":
    cli()
