"""``bounty population``: deployment populations, for a round's organizer and its deployers
(add one, list them, show every version and group measured on one)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bounty_client.cli import JsonOption, connected, emit, out

Slug = Annotated[str, typer.Argument(help="The round's slug.")]
POLL_SECONDS = 1.0

population_app = typer.Typer(
    help="Deployment populations: labelled rows from where the model is used, measured on every "
    "version, never deciding.",
    no_args_is_help=True,
)


def add(
    slug: Slug,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A CSV or Parquet table.")
    ],
    name: Annotated[str, typer.Option(help="Its name in the round.")],
    description: Annotated[str, typer.Option(help="Where and when the rows come from.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add a population (the round's features and label) to an open round."""
    with connected() as client:
        added = client.add_population(slug, file, name=name, description=description)
    emit(
        added,
        as_json,
        lambda: out.print(
            f"population {added.id} ({added.name}, {added.n_rows} rows) added; "
            f"the workers are measuring it: `bounty population show {slug} {added.id}`"
        ),
    )


def list_populations(slug: Slug, as_json: JsonOption = False) -> None:
    """The round's populations you may read."""
    with connected() as client:
        found = client.populations(slug)

    def table() -> None:
        shown = Table("id", "name", "rows", "status", "added", title=f"{slug}: populations")
        for p in found:
            shown.add_row(
                str(p.id),
                p.name,
                str(p.n_rows),
                p.status,
                p.created_at.isoformat(timespec="minutes"),
            )
        out.print(shown)

    emit(found, as_json, table)


def _cells(loss: float | None, fpr: float | None, fnr: float | None) -> list[str]:
    return [_number(loss), _share(fpr), _share(fnr)]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def show(
    slug: Slug,
    population_id: Annotated[int, typer.Argument(help="The population's id.")],
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the workers to finish measuring it.")
    ] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Every version of the model, and each accepted or watched group, on one population."""
    with connected() as client:
        found = client.population(slug, population_id)
        deadline = time.monotonic() + wait
        while found.population.status == "measuring" and time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            found = client.population(slug, population_id)

    def tables() -> None:
        p = found.population
        out.print(f"{p.name}: {p.n_rows} rows, {p.status}")
        for problem in (p.error, found.failed_pair):
            if problem:
                out.print(problem, highlight=False)
        versions = Table("version", "node", "loss", "FPR", "FNR", "holdout loss")
        for v in found.versions:
            figures = _cells(v.loss, v.false_positive_rate, v.false_negative_rate)
            versions.add_row(str(v.version), v.kind, *figures, _number(v.holdout_loss))
        out.print(versions)
        groups = Table("group", "team", "rows", "base", "before", "after", "newest")
        for g in found.groups:
            groups.add_row(
                g.group,
                g.team or g.kind,
                str(g.rows),
                *(_number(f.loss if f else None) for f in (g.base, g.before, g.after, g.head)),
            )
        out.print(groups)

    emit(found, as_json, tables)


def register(cli: typer.Typer) -> None:
    """Add ``bounty population`` to the command."""
    population_app.command("add")(add)
    population_app.command("list")(list_populations)
    population_app.command("show")(show)
    cli.add_typer(population_app, name="population")
