"""The client commands of ``bounty``: log in once, then read rounds, leaderboards and verdicts.

Human output by default, ``--json`` for scripts; errors are one line on standard error, and
the exit code says what went wrong (see ``ExitCode``). The API key comes from
``BOUNTY_API_KEY`` or from ``bounty login``, which keeps it in the user's configuration
directory in a file only they can read (mode 0600).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from bounty_client.client import BountyClient, BountyError, VerdictTimeoutError

err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long
out = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class ExitCode(IntEnum):
    """What a client command's exit status means."""

    OK = 0
    ERROR = 1
    NOT_SIGNED_IN = 3
    NOT_FOUND = 4
    REFUSED = 5
    QUOTA = 6
    UNREACHABLE = 7
    REJECTED = 8  # the pair was (or, by `check`, would be) rejected or invalid
    TIMEOUT = 9  # no verdict within the time allowed


def config_path() -> Path:
    """Where ``bounty login`` keeps the server and the API key."""
    base = os.environ.get("BOUNTY_CONFIG_DIR") or os.environ.get("XDG_CONFIG_HOME")
    folder = Path(base) if base else Path.home() / ".config"
    if not os.environ.get("BOUNTY_CONFIG_DIR"):
        folder = folder / "bias-bounty"
    return folder / "client.json"


def load_config() -> dict[str, str]:
    """The saved login, overridden by ``BOUNTY_SERVER`` and ``BOUNTY_API_KEY``."""
    path = config_path()
    saved: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    for key, variable in (("server", "BOUNTY_SERVER"), ("api_key", "BOUNTY_API_KEY")):
        if os.environ.get(variable):
            saved[key] = os.environ[variable]
    return saved


def save_config(server: str, api_key: str) -> Path:
    """Write the login readable by its owner only (0600), replacing any earlier one."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"server": server, "api_key": api_key}, handle)
    path.chmod(0o600)
    return path


def fail(message: str, code: ExitCode) -> typer.Exit:
    """Print ``message`` as one error line; the ``typer.Exit`` to raise with ``code``."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(int(code))


@contextmanager
def reporting(server: str) -> Iterator[None]:
    """API errors, unreachable servers and verdict time-outs as one line on standard error
    and an exit code."""
    try:
        yield
    except BountyError as exc:
        raise fail(exc.detail, _code_for(exc.status)) from exc
    except httpx.TransportError as exc:
        raise fail(f"cannot reach {server}: {exc}", ExitCode.UNREACHABLE) from exc
    except VerdictTimeoutError as exc:
        raise fail(str(exc), ExitCode.TIMEOUT) from exc


@contextmanager
def connected(need_key: bool = True) -> Iterator[BountyClient]:
    """A client from the saved login, its errors reported as by ``reporting``."""
    config = load_config()
    if "server" not in config or (need_key and "api_key" not in config):
        hint = "not logged in: run `bounty login` (or set BOUNTY_API_KEY)"
        raise fail(hint, ExitCode.NOT_SIGNED_IN)
    with (
        reporting(config["server"]),
        BountyClient(config["server"], api_key=config.get("api_key")) as client,
    ):
        yield client


def _code_for(status: int) -> ExitCode:
    if status in (401, 403):
        return ExitCode.NOT_SIGNED_IN
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 429:
        return ExitCode.QUOTA
    return ExitCode.REFUSED if 400 <= status < 500 else ExitCode.ERROR


def emit(value: BaseModel | list[Any], as_json: bool, human: Callable[[], None]) -> None:
    """Print ``value`` as JSON with ``--json``, else call ``human`` to print it for people."""
    if as_json:
        data = (
            [v.model_dump(mode="json") for v in value]
            if isinstance(value, list)
            else value.model_dump(mode="json")
        )
        typer.echo(json.dumps(data, indent=2))
    else:
        human()


def login(
    server: Annotated[str, typer.Option(help="The server's address.")] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None, typer.Option(help="An API key (bbk_...); asked for if not given.")
    ] = None,
) -> None:
    """Check an API key against the server and keep it for the other commands."""
    key = api_key or typer.prompt("API key", hide_input=True)
    with reporting(server), BountyClient(server, api_key=key, retries=1) as client:
        me = client.request("GET", "/me").json()
    path = save_config(server, key)
    out.print(f"Logged in to {server} as {me['display_name']} ({me['email']}); saved in {path}")


def rounds(as_json: JsonOption = False) -> None:
    """The rounds you can see."""
    with connected(need_key=False) as client:
        found = client.rounds()

    def table() -> None:
        view = Table("slug", "title", "status", "closes")
        for r in found:
            view.add_row(r.slug, r.title, r.status, r.closes_at.isoformat() if r.closes_at else "")
        out.print(view)

    emit(found, as_json, table)


def leaderboard(
    slug: Annotated[str, typer.Argument(help="The round's slug.")], as_json: JsonOption = False
) -> None:
    """A round's leaderboard."""
    with connected(need_key=False) as client:
        board = client.leaderboard(slug)

    def table() -> None:
        view = Table("#", "team", "improvement", "accepted", "submissions", title=board.round)
        for e in board.entries:
            improvement = "hidden" if e.improvement is None else f"{e.improvement:.6g}"
            view.add_row(
                str(e.rank or "-"), e.team, improvement, str(e.accepted), str(e.submissions)
            )
        out.print(view)

    emit(board, as_json, table)


def status(
    submission_id: Annotated[int, typer.Argument(help="The submission's id.")],
    as_json: JsonOption = False,
) -> None:
    """One of your team's submissions, with its verdict once decided."""
    with connected() as client:
        sub = client.submission(submission_id)

    def line() -> None:
        verdict = sub.verdict
        told = f"{verdict.outcome} ({verdict.reason}): {verdict.message}" if verdict else sub.status
        out.print(f"submission {sub.id} in {sub.round}: {told}")

    emit(sub, as_json, line)


def submissions(
    slug: Annotated[str, typer.Argument(help="The round's slug.")], as_json: JsonOption = False
) -> None:
    """Your team's submissions in a round, newest first."""
    with connected() as client:
        found = client.submissions(slug)

    def table() -> None:
        view = Table("id", "group", "status", "verdict", "submitted", title=slug)
        for s in found:
            group = s.group_expression if s.group_kind == "rule" else "(group model)"
            verdict = f"{s.verdict.outcome} ({s.verdict.reason})" if s.verdict else ""
            view.add_row(str(s.id), group or "", s.status, verdict, s.created_at.isoformat())
        out.print(view)

    emit(found, as_json, table)


def show_round(
    slug: Annotated[str, typer.Argument(help="The round's slug.")], as_json: JsonOption = False
) -> None:
    """A round's rules, data and schedule."""
    with connected(need_key=False) as client:
        found = client.round(slug)

    def facts() -> None:
        rules = found.rules
        meaning = found.alpha_meaning
        alpha = f"{rules.alpha}  ({meaning.summary})" if meaning else str(rules.alpha)
        view = Table.grid(padding=(0, 2))
        for name, value in (
            ("title", found.title),
            ("status", found.status),
            (
                "loss",
                f"{rules.loss}: {found.costs_explained}" if found.costs_explained else rules.loss,
            ),
            ("alpha", alpha),
            ("minimum group", f"{rules.min_group_rows} holdout rows"),
            ("daily quota", str(rules.daily_quota)),
            ("disclosure", rules.disclosure),
            ("train rows", str(found.data.n_train) if found.data else "no data yet"),
            ("closes", found.closes_at.isoformat() if found.closes_at else "-"),
        ):
            view.add_row(f"[bold]{name}[/bold]", str(value))
        out.print(view)

    emit(found, as_json, facts)


def download(
    slug: Annotated[str, typer.Argument(help="The round's slug.")],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where to write it (.csv or .parquet; default <slug>-train.csv)."
        ),
    ] = None,
) -> None:
    """Download a round's public training split."""
    target = out_file or Path(f"{slug}-train.csv")
    with connected(need_key=False) as client:
        train = client.train_data(slug)
    if target.suffix == ".parquet":
        train.to_parquet(target, index=False)
    else:
        train.to_csv(target, index=False)
    out.print(f"{len(train)} rows, {train.shape[1]} columns written to {target}")


round_app = typer.Typer(
    help="Rounds: show one; organizers create, open, freeze, close, export, report.",
    no_args_is_help=True,
)
data_app = typer.Typer(help="Round data: download the public training split.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    """Add the client commands to the ``bounty`` command."""
    for command in (login, rounds, leaderboard, status, submissions):
        cli.command()(command)
    round_app.command("show")(show_round)
    data_app.command("download")(download)
    cli.add_typer(round_app, name="round")
    cli.add_typer(data_app, name="data")
