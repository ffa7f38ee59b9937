"""The organizer's client commands: ``bounty round create|open|freeze|close|export|report``.

``bounty round create SPEC`` sets a round up from one TOML or YAML file::

    open = true                      # open the round once it is set up

    [round]                          # the settings of POST /rounds
    title = "Income prediction, autumn 2026"
    alpha = 0.002
    min_group_rows = 30

    [data]                           # paths are relative to the spec file
    file = "census.csv"              # or: train = ..., holdout = ..., test = ...
    label = "income"
    fractions = [0.6, 0.2, 0.2]
    seed = 7

    [base_model]
    default = true                   # or: file = "base.skops"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.table import Table

from bounty_client.cli import ExitCode, JsonOption, connected, data_app, emit, fail, out, round_app
from bounty_client.models import Interval, RoundCreate

Slug = Annotated[str, typer.Argument(help="The round's slug.")]


class DataSpec(BaseModel):
    """The round's data: one table split at random, or three split files."""

    model_config = ConfigDict(extra="forbid")

    label: str
    file: Path | None = None
    train: Path | None = None
    holdout: Path | None = None
    test: Path | None = None
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    seed: int = 0

    @model_validator(mode="after")
    def _one_layout(self) -> Self:
        splits = [self.train, self.holdout, self.test]
        if (self.file is None) == all(p is None for p in splits) or (
            self.file is None and any(p is None for p in splits)
        ):
            raise ValueError("give either `file`, or all three of `train`, `holdout` and `test`")
        return self


class BaseModelSpec(BaseModel):
    """The base model: the platform's default, or a skops/ONNX file."""

    model_config = ConfigDict(extra="forbid")

    default: bool = False
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.default == (self.file is not None):
            raise ValueError("give either `default = true` or a model `file`")
        return self


class RoundSpec(BaseModel):
    """A whole round set-up, as ``bounty round create`` reads it."""

    model_config = ConfigDict(extra="forbid")

    round: RoundCreate
    data: DataSpec
    base_model: BaseModelSpec = Field(default_factory=lambda: BaseModelSpec(default=True))
    open: bool = False


def read_spec(path: Path) -> RoundSpec:
    """Parse a TOML or YAML round spec; paths in it are made relative to its folder."""
    text = path.read_text(encoding="utf-8")
    try:
        raw: Any = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path} is not valid {path.suffix.lstrip('.').upper()}: {exc}") from exc
    spec = RoundSpec.model_validate(raw)
    base = path.parent
    data = spec.data.model_copy(
        update={
            name: base / value
            for name in ("file", "train", "holdout", "test")
            if (value := getattr(spec.data, name)) is not None
        }
    )
    model = spec.base_model
    if model.file is not None:
        model = model.model_copy(update={"file": base / model.file})
    return spec.model_copy(update={"data": data, "base_model": model})


def create(
    spec_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .toml or .yaml round spec.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Create a round from a spec file: settings, data, base model, and open it if asked."""
    try:
        spec = read_spec(spec_file)
    except (ValueError, ValidationError) as exc:
        raise fail(_one_line(exc), ExitCode.ERROR) from exc
    with connected() as client:
        created = client.create_round(spec.round)
        data = spec.data
        splits = (
            None
            if data.file is not None
            else {"train": data.train, "holdout": data.holdout, "test": data.test}
        )
        dataset = client.upload_dataset(
            created.slug,
            label=data.label,
            file=data.file,
            splits=splits,  # type: ignore[arg-type]  # all three are set when file is None
            fractions=data.fractions,
            seed=data.seed,
        )
        client.set_base_model(created.slug, spec.base_model.file)
        final = client.set_status(created.slug, "open") if spec.open else client.round(created.slug)

    def summary() -> None:
        sizes = dataset.data
        out.print(
            f"round [bold]{final.slug}[/bold] ({final.status}): {sizes.n_train} train, "
            f"{sizes.n_holdout} holdout, {sizes.n_test} test rows; {dataset.alpha_meaning.summary}"
        )

    emit(final, as_json, summary)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"spec file: {where}: {first['msg']}"
    return str(exc)


def _lifecycle(action: Literal["open", "freeze", "close"]) -> Any:
    def command(slug: Slug, as_json: JsonOption = False) -> None:
        with connected() as client:
            found = client.set_status(slug, action)
        emit(found, as_json, lambda: out.print(f"round {found.slug} is now {found.status}"))

    command.__doc__ = f"{action.capitalize()} a round (its organizer)."
    return command


def export(
    slug: Slug,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write the bundle (default <slug>.zip).")
    ] = None,
) -> None:
    """Download the round's current model as a bundle that loads without the server."""
    target = out_file or Path(f"{slug}.zip")
    with connected() as client:
        client.export(slug, target)
    out.print(f"model bundle written to {target} ({target.stat().st_size} bytes)")


def report(slug: Slug, as_json: JsonOption = False) -> None:
    """The closing report: base vs final model on holdout and test, teams and groups."""
    with connected() as client:
        found = client.report(slug)

    def tables() -> None:
        losses = Table(
            "split",
            "base",
            "final",
            "improvement",
            "95% interval",
            title=f"{slug} ({found.status})",
        )
        for split, loss in (("holdout", found.holdout), ("test", found.test)):
            losses.add_row(
                split,
                *(_number(x) for x in (loss.base, loss.final, loss.improvement)),
                _interval(loss.improvement_interval),
            )
        out.print(losses)
        out.print(f"overfitting gap: {_number(found.overfitting_gap)}")
        teams = Table("team", "accepted", "holdout improvement", "test improvement")
        for t in found.teams:
            teams.add_row(
                t.team, str(t.accepted), _number(t.holdout_improvement), _number(t.test_improvement)
            )
        out.print(teams)
        changes = Table("version", "node", "submission", "holdout change", "test change [95%]")
        for v in found.versions:
            changes.add_row(
                str(v.version),
                v.kind,
                str(v.submission_id or "-"),
                _number(v.holdout_change),
                f"{_number(v.test_change)} {_interval(v.test_change_interval)}",
            )
        out.print(changes)

    emit(found, as_json, tables)


def _interval(interval: Interval | None) -> str:
    return "-" if interval is None else f"[{_number(interval.low)}, {_number(interval.high)}]"


def archive(
    slug: Slug,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (default <slug>-archive.zip).")
    ] = None,
) -> None:
    """Download the whole round as one archive, to import on another instance."""
    target = out_file or Path(f"{slug}-archive.zip")
    with connected() as client:
        client.export_archive(slug, target)
    out.print(f"round archive written to {target} ({target.stat().st_size} bytes)")


def import_round(
    archive_file: Annotated[Path, typer.Argument(help="An archive from `bounty round archive`.")],
    slug: Annotated[
        str | None, typer.Option(help="A new slug (default: the archived one).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import a round archive here; the replay must reproduce every verdict and version."""
    with connected() as client:
        result = client.import_archive(archive_file, slug=slug)

    def summary() -> None:
        out.print(
            f"imported {result.round.slug}: {result.submissions} submissions, "
            f"{result.verdicts_checked} verdicts and {result.versions} model versions "
            "reproduced exactly by the replay"
        )

    emit(result, as_json, summary)


def audit(
    slug: Slug,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the whole log as JSON Lines here.")
    ] = None,
    action: Annotated[str | None, typer.Option(help="Only entries of this action.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The round's audit log: organizer actions, team changes and verdicts, oldest first."""
    with connected() as client:
        if out_file is not None:
            client.export_audit_log(slug, out_file)
            out.print(f"audit log written to {out_file}")
            return
        events = list(client.audit_log(slug, action=action))

    def table() -> None:
        shown = Table("id", "at", "action", "by", "detail", title=f"{slug}: audit log")
        for e in events:
            by = e.actor.display_name if e.actor else "worker"
            detail = ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
            shown.add_row(str(e.id), e.at.isoformat(timespec="seconds"), e.action, by, detail)
        out.print(shown)

    emit(events, as_json, table)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def synthetic(
    out_file: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    rows: Annotated[int, typer.Option(min=100, max=10_000_000, help="Rows.")] = 6000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same data.")] = 0,
    planted: Annotated[int, typer.Option(min=0, max=10, help="Planted groups (at most 10).")] = 3,
) -> None:
    """Write a seeded synthetic table (label ``y``) with planted groups on which a model of
    the whole population is badly wrong: data to try a round on."""
    # numpy and pandas only for this command (the other commands start faster without them).
    from bounty_engine.datasets.synthetic import make_synthetic  # noqa: PLC0415

    data = make_synthetic(rows, n_planted=planted, seed=seed)
    data.frame.to_csv(out_file, index=False)
    out.print(f"{rows} rows written to {out_file}; planted groups:")
    for group in data.planted:
        out.print(f"  {group.expression}  ({group.share:.1%} of rows)", highlight=False)


def register() -> None:
    """Add the organizer commands to ``bounty round``, and ``bounty data synthetic``."""
    data_app.command("synthetic")(synthetic)
    round_app.command("create")(create)
    for action in ("open", "freeze", "close"):
        round_app.command(action)(_lifecycle(action))
    round_app.command("export")(export)
    round_app.command("report")(report)
    round_app.command("audit")(audit)
    round_app.command("archive")(archive)
    round_app.command("import")(import_round)
