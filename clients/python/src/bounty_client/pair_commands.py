"""The client commands that work with pairs: ``check`` locally, ``submit``, and ``hunt``.

Exit codes (``ExitCode``): 0 when the pair is (or would be) accepted, 8 when it is rejected
or invalid, 9 when no verdict came in time, and the usual codes for refused requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from bounty_client.cli import ExitCode, JsonOption, connected, err, fail, out
from bounty_client.models import SubmissionOut
from bounty_engine.errors import EngineError

if TYPE_CHECKING:
    from bounty_client.check import LocalCheck
    from bounty_engine.decision import PairStats

Slug = Annotated[str, typer.Argument(help="The round's slug.")]
Rule = Annotated[str | None, typer.Option("--rule", help="The group as a rule, e.g. 'age >= 50'.")]
GroupModel = Annotated[
    Path | None,
    typer.Option("--group-model", exists=True, dir_okay=False, help="The group as a 0/1 model."),
]
Model = Annotated[
    Path, typer.Option("--model", exists=True, dir_okay=False, help="h: a skops or ONNX file.")
]


def _group(rule: str | None, group_model: Path | None) -> dict[str, Any]:
    if (rule is None) == (group_model is None):
        raise fail("give the group as --rule or as --group-model (one of them)", ExitCode.ERROR)
    return {"group": rule} if rule is not None else {"group_model": group_model}


def check(
    slug: Slug,
    model: Model,
    rule: Rule = None,
    group_model: GroupModel = None,
    as_json: JsonOption = False,
) -> None:
    """Decide a pair locally on the public train split, with the round's rules and the
    current model, before spending quota."""
    with connected(need_key=False) as client:
        try:
            local = client.check(slug, model, **_group(rule, group_model))
        except EngineError as exc:
            raise fail(str(exc), ExitCode.REJECTED) from exc
    if as_json:
        typer.echo(json.dumps(local.as_json(), indent=2))
    else:
        _print_check(local)
    if not local.decision.accepted:
        raise typer.Exit(int(ExitCode.REJECTED))


def _print_check(local: LocalCheck) -> None:
    decision, stats = local.decision, local.train
    out.print(f"local verdict on the train split: [bold]{decision.outcome.value}[/bold]")
    out.print(decision.message, highlight=False)
    if stats is not None:
        before, after = stats.group_loss_before, stats.group_loss_after
        if before is not None and after is not None:
            out.print(f"group loss {before:.4f} -> {after:.4f} on {stats.n_group} train rows")
        out.print(f"score {stats.score:.6g}")
        for name, (before_rate, after_rate) in _rates(stats).items():
            out.print(f"{name} {_share(before_rate)} -> {_share(after_rate)}")
        out.print(
            f"expected holdout rows in the group: about {local.expected_holdout_rows} "
            f"(at least {local.min_group_rows} needed)"
        )


def _rates(stats: PairStats) -> dict[str, tuple[float | None, float | None]]:
    before, after = stats.rates_before, stats.rates_after
    if before is None or after is None:
        return {}
    return {
        "false-positive rate in the group": (
            before.false_positive_rate,
            after.false_positive_rate,
        ),
        "false-negative rate in the group": (
            before.false_negative_rate,
            after.false_negative_rate,
        ),
    }


def _share(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


def submit(
    slug: Slug,
    model: Model,
    rule: Rule = None,
    group_model: GroupModel = None,
    note: Annotated[str, typer.Option(help="A note for the organizers.")] = "",
    wait: Annotated[bool, typer.Option(help="Follow the status until the verdict.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the verdict.")] = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Submit a pair, show the upload's progress, then follow its status to the verdict."""
    with connected() as client:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("uploading", total=None)
            sent = client.submit(
                slug,
                model,
                note=note,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                **_group(rule, group_model),
            )
        quota = sent.quota
        if not as_json:
            out.print(
                f"submission {sent.submission.id} queued; {quota.remaining} of {quota.limit} "
                f"left today (resets {quota.resets_at.isoformat()})"
            )
        result = sent.submission
        if wait:
            with err.status("waiting for the verdict", spinner="dots") as shown:
                result = client.wait(
                    sent.submission.id,
                    timeout=timeout,
                    on_status=lambda s: shown.update(f"{s.status}: waiting for the verdict"),
                )
    _report(result, as_json)


def _report(sub: SubmissionOut, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(sub.model_dump(mode="json"), indent=2))
    elif sub.verdict is not None:
        v = sub.verdict
        out.print(f"submission {sub.id}: [bold]{v.outcome}[/bold] ({v.reason})")
        out.print(v.message, highlight=False)
        for split, stats in (("train", v.train), ("holdout", v.holdout)):
            if stats is not None:
                out.print(f"{split}: {stats.n_group} rows in the group, score {stats.score:.6g}")
    else:
        out.print(f"submission {sub.id}: {sub.status}")
    if sub.verdict is not None and sub.verdict.outcome != "accepted":
        raise typer.Exit(int(ExitCode.REJECTED))


def hunt(
    slug: Slug,
    budget: Annotated[int, typer.Option(min=1, help="Most pairs to submit.")] = 5,
    depth: Annotated[int, typer.Option(min=1, max=8, help="Depth of the error tree.")] = 3,
    min_leaf_share: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="Smallest leaf, as a share of rows.")
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Hunt automatically: find where the model errs most on the train split, patch it
    there, check locally, submit, wait, and repeat."""
    from bounty_client.hunter import BountyHunter  # noqa: PLC0415 (scikit-learn: when used)

    with connected() as client:
        hunter = BountyHunter(
            client,
            slug,
            depth=depth,
            min_leaf_share=min_leaf_share,
            seed=seed,
            log=(lambda _: None) if as_json else lambda line: err.print(line, highlight=False),
        )
        report = hunter.run(budget=budget)
        history = client.history(slug)
    if as_json:
        attempts = [
            {"expression": a.expression, "submission": a.submission.id, "outcome": a.outcome}
            for a in report.attempts
        ]
        typer.echo(json.dumps({"attempts": attempts, "stopped": report.stopped}, indent=2))
    else:
        out.print(
            f"{len(report.accepted)} of {len(report.attempts)} submitted pairs accepted; "
            f"stopped: {report.stopped}"
        )
        losses = [p.holdout_loss for p in history.versions if p.holdout_loss is not None]
        if losses:
            out.print("holdout loss by version: " + " -> ".join(f"{x:.4f}" for x in losses))
    if not report.accepted:
        raise typer.Exit(int(ExitCode.REJECTED))


def register(cli: typer.Typer) -> None:
    """Add ``check``, ``submit`` and ``hunt`` to the ``bounty`` command."""
    for command in (check, submit, hunt):
        cli.command()(command)
