"""The ``bounty`` command line."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from app import __version__
from app.demo import build_demo_round
from app.engine.bundle import export_bundle, load_bundle

cli = typer.Typer(
    help="Bias Bounty: run and enter algorithmic bias bounties.", no_args_is_help=True
)
console = Console()


@cli.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@cli.command()
def demo(
    bundle: Annotated[
        Path | None,
        typer.Option(help="Where to write the exported model bundle (default: a temporary file)."),
    ] = None,
) -> None:
    """Run the demo round on the UCI Adult census data and export its model."""
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


def main() -> None:
    """Entry point of the ``bounty`` script."""
    cli()
