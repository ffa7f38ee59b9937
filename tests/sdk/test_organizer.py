"""The organizer's client commands against a real server: a round from a spec file (the
README's example), through open, freeze and close, its export and its closing report; and an
automated hunter that finds a planted group in it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import Result

from app.seed import DEMO_SLUG
from bounty_client import BountyClient
from bounty_client.cli import ExitCode
from bounty_client.hunter import BountyHunter
from bounty_engine.bundle import load_bundle
from bounty_engine.data import prepare_features
from bounty_engine.datasets.adult import load_adult
from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.schema import FeatureSchema
from tests.sdk.conftest import new_researcher
from tests.support.servers import DemoServer

Run = Callable[..., Result]
EXAMPLES = Path(__file__).parents[2] / "examples"
SEED = 1


@pytest.fixture
def spec(tmp_path: Path, run: Run) -> Path:
    """The README's example spec beside the data its comment says to make."""
    made = run(
        "data", "synthetic", "--rows", 6000, "--seed", SEED, "--out", tmp_path / "planted.csv"
    )
    assert made.exit_code == 0, made.output
    assert 'c0 == "a"' in made.stdout  # the planted groups are printed
    return Path(shutil.copy(EXAMPLES / "round.toml", tmp_path / "round.toml"))


def test_a_round_from_a_spec_file_through_its_whole_life(
    run: Run, server: DemoServer, organizer_key: str, spec: Path, tmp_path: Path
) -> None:
    assert run("login", "--server", server.url, "--api-key", organizer_key).exit_code == 0
    created = run("round", "create", spec, "--json")
    assert created.exit_code == 0, created.output
    round_ = json.loads(created.stdout)
    slug = round_["slug"]
    assert (round_["status"], round_["rules"]["min_group_rows"]) == ("open", 20)
    assert (
        round_["data"]["n_train"] + round_["data"]["n_holdout"] + round_["data"]["n_test"] == 6000
    )
    assert round_["base_model"]["source"] == "default"

    assert run("round", "open", slug).exit_code == ExitCode.REFUSED  # already open: 409
    assert "now frozen" in run("round", "freeze", slug).stdout
    assert json.loads(run("round", "close", slug, "--json").stdout)["status"] == "closed"
    bundle = tmp_path / "model.zip"
    assert run("round", "export", slug, "--out", bundle).exit_code == 0
    model = load_bundle(bundle)
    rows = pd.read_csv(tmp_path / "planted.csv").drop(columns="y").head(50)
    assert len(model.predict(rows)) == 50
    report = json.loads(run("round", "report", slug, "--json").stdout)
    assert report["status"] == "closed"
    assert report["holdout"]["base"] == report["holdout"]["final"]  # nothing was submitted
    assert "overfitting gap" in run("round", "report", slug).stdout

    logged = json.loads(run("round", "audit", slug, "--json").stdout)
    assert [e["action"] for e in logged] == [
        "round.created",
        "round.dataset_uploaded",
        "round.base_model_set",
        "round.opened",
        "round.frozen",
        "round.closed",
    ]
    assert "round.frozen" in run("round", "audit", slug).stdout
    exported = tmp_path / "audit.jsonl"
    assert run("round", "audit", slug, "--out", exported).exit_code == 0
    assert [json.loads(line) for line in exported.read_text().splitlines()] == logged

    packed = tmp_path / "round.zip"
    assert run("round", "archive", slug, "--out", packed).exit_code == 0
    copy = json.loads(run("round", "import", packed, "--slug", f"{slug}-copy", "--json").stdout)
    assert (copy["round"]["slug"], copy["round"]["status"]) == (f"{slug}-copy", "closed")
    assert copy["versions"] == 1  # the base model only: nothing was submitted
    assert run("round", "import", packed).exit_code == ExitCode.REFUSED  # the slug is taken


def test_a_yaml_spec_with_three_split_files_and_a_cost_matrix_stays_a_draft(
    run: Run, server: DemoServer, organizer_key: str, tmp_path: Path
) -> None:
    frame = make_synthetic(900, seed=3).frame
    for i, name in enumerate(("train", "holdout", "test")):
        frame.iloc[i * 300 : (i + 1) * 300].to_csv(tmp_path / f"{name}.csv", index=False)
    (tmp_path / "round.yaml").write_text(
        "round:\n  title: Three files\n  min_group_rows: 5\n"
        "  loss: cost\n  loss_costs: [[0, 3], [1, 0]]\n"
        "data:\n  label: y\n  train: train.csv\n  holdout: holdout.csv\n  test: test.csv\n"
    )
    run("login", "--server", server.url, "--api-key", organizer_key)
    created = json.loads(run("round", "create", tmp_path / "round.yaml", "--json").stdout)
    assert created["status"] == "draft"
    assert created["data"]["n_holdout"] == 300
    assert (created["rules"]["loss"], created["rules"]["loss_costs"]) == ("cost", [[0, 3], [1, 0]])
    assert "costs 3" in created["costs_explained"]
    assert run("round", "open", created["slug"]).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[round]\ntitle = 'x'\n", "spec file: data: Field required"),
        ("[round]\ntitle = 'x'\n[data]\nlabel = 'y'\n", "give either `file`, or all three"),
        ("[round\n", "is not valid TOML"),
        ("[round]\ntitle='x'\nalpha=-1\n[data]\nlabel='y'\nfile='a.csv'\n", "round.alpha"),
    ],
)
def test_a_bad_spec_file_is_one_clear_line(
    run: Run, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(text)
    refused = run("round", "create", tmp_path / "bad.toml")
    assert refused.exit_code == ExitCode.ERROR
    assert message in refused.output
    assert refused.output.count("\n") <= 2


def test_a_participant_cannot_run_organizer_commands(
    run: Run, server: DemoServer, api_key: str, spec: Path
) -> None:
    run("login", "--server", server.url, "--api-key", api_key)  # the demo researcher
    refused = run("round", "create", spec)
    assert refused.exit_code == ExitCode.NOT_SIGNED_IN  # 403
    assert "organizer" in refused.output


def _overlap(expression: str, planted: str, schema: FeatureSchema, frame: pd.DataFrame) -> float:
    features = prepare_features(frame, schema)
    a = RuleGroup.parse(expression, schema).mask(features)
    b = RuleGroup.parse(planted, schema).mask(features)
    return float((a & b).sum() / (a | b).sum())


def test_the_hunter_finds_a_planted_group_and_gets_it_accepted(
    server: DemoServer, organizer_key: str, spec: Path
) -> None:
    with BountyClient(server.url, api_key=organizer_key) as organizer:
        from bounty_client.organizer_commands import read_spec

        setup = read_spec(spec)
        renamed = {"title": "Hunted", "slug": "hunted"}
        settings = setup.round.model_dump(exclude_unset=True) | renamed
        slug = organizer.create_round(settings).slug
        organizer.upload_dataset(slug, label="y", file=setup.data.file, seed=SEED)
        organizer.set_base_model(slug)
        organizer.set_status(slug, "open")
    key = new_researcher(server, slug, "Hunters")
    lines: list[str] = []
    with BountyClient(server.url, api_key=key) as client:
        report = BountyHunter(client, slug, log=lines.append).run(budget=3)
        schema, train = client.schema(slug), client.train_data(slug)
        losses = [v.holdout_loss for v in client.history(slug).versions]
    assert report.accepted, (report.stopped, lines)
    planted = [g.expression for g in make_synthetic(6000, seed=SEED).planted]
    best = max(_overlap(a.expression, p, schema, train) for a in report.accepted for p in planted)
    assert best > 0.6, [a.expression for a in report.accepted]
    assert losses == sorted(losses, reverse=True)
    assert losses[-1] < losses[0]  # the global holdout error fell


def test_an_organizer_follows_a_population_from_the_command_line(
    run: Run, server: DemoServer, organizer_key: str, api_key: str, tmp_path: Path
) -> None:
    rows = load_adult().sample(1200, random_state=3)
    table = tmp_path / "branch.csv"
    rows.to_csv(table, index=False)
    run("login", "--server", server.url, "--api-key", organizer_key)
    added = run("population", "add", DEMO_SLUG, table, "--name", "branch", "--json")
    assert added.exit_code == 0, added.output
    pid = json.loads(added.stdout)["id"]
    assert "branch" in run("population", "list", DEMO_SLUG).stdout
    shown = run("population", "show", DEMO_SLUG, pid, "--wait", 120, "--json")
    figures = json.loads(shown.stdout)
    assert figures["population"]["status"] == "measured"
    head = figures["versions"][-1]
    # The exported model, run here on the same rows, makes the same errors.
    bundle = tmp_path / "model.zip"
    assert run("round", "export", DEMO_SLUG, "--out", bundle).exit_code == 0
    wrong = load_bundle(bundle).predict(rows) != rows["income"].to_numpy()
    assert head["loss"] == pytest.approx(wrong.mean(), abs=1e-12)
    assert "FNR" in run("population", "show", DEMO_SLUG, pid).stdout

    run("login", "--server", server.url, "--api-key", api_key)  # a participant
    refused = run("population", "list", DEMO_SLUG)
    assert refused.exit_code == ExitCode.NOT_SIGNED_IN  # 403
