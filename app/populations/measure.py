"""Measuring populations: the workers run the base model and every accepted pair on each
population, in the sandbox like any evaluation, and store the outputs (docs/populations.md).

A population needs work while its base model's predictions are missing, or while some patch
node of the round's current model has no output on it. Measuring comes after every submission
waiting to be evaluated or decided: it never delays a verdict.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import transaction, utcnow
from app.core.storage import ArtifactStore
from app.evaluation.decide import pair_files
from app.evaluation.outputs import dump_outputs
from app.evaluation.sandbox import (
    Limits,
    PairFiles,
    SandboxError,
    SandboxUnavailable,
    run_sandboxed,
)
from app.populations.models import Population, PopulationOutput
from app.populations.service import read_population
from app.rounds.engine_view import round_schema
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from bounty_engine.data import prepare_features

log = logging.getLogger("bounty.populations")

SPLIT = "population"
"""The name of a population's rows in stored outputs."""
MAX_ATTEMPTS = 3
RETRY_SECONDS = 15.0


def _missing_patch() -> Any:
    """A patch node of the population's round with no output on the population yet."""
    return exists().where(
        ModelVersion.round_id == Population.round_id,
        ModelVersion.kind == "patch",
        ModelVersion.submission_id.is_not(None),
        ~exists().where(
            PopulationOutput.population_id == Population.id,
            PopulationOutput.submission_id == ModelVersion.submission_id,
        ),
    )


def needs_measuring() -> Any:
    """Populations with something left to measure (and that can be measured)."""
    return and_(
        Population.error.is_(None),
        or_(Population.base_outputs_sha.is_(None), _missing_patch()),
    )


class PopulationMeasurer:
    """Measures one population at a time for a worker."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: ArtifactStore,
        cache_dir: Path,
        limits: Limits,
        *,
        owner: str,
    ) -> None:
        self.factory = factory
        self.store = store
        self.cache_dir = cache_dir
        self.limits = limits
        self.owner = owner

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.limits.wall_seconds + 60)

    def claim(self) -> int | None:
        """Lease a population that needs measuring; its id, or None."""
        now = utcnow()
        free = or_(Population.lease_expires_at.is_(None), Population.lease_expires_at <= now)
        with transaction(self.factory) as session:
            found = session.scalar(
                select(Population.id)
                .where(needs_measuring(), free)
                .order_by(Population.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if found is None:
                return None
            won: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Population)
                .where(Population.id == found, free)
                .values(lease_owner=self.owner, lease_expires_at=now + self._lease)
            )
        return found if won.rowcount == 1 else None

    def measure_next(self) -> bool:
        """Measure what is missing on one population, if any needs it; whether one did."""
        population_id = self.claim()
        if population_id is None:
            return False
        try:
            self.measure(population_id)
        except SandboxUnavailable as exc:
            self._platform_failed(population_id, exc)
        else:
            self._release(population_id)
        return True

    def measure(self, population_id: int) -> None:
        """Run the base model (if not yet) and each patch node's pair without an output on the
        population, storing each result as it comes."""
        with transaction(self.factory, write=False) as session:
            population = session.get(Population, population_id)
            round_ = session.get(Round, population.round_id) if population else None
            if population is None or round_ is None:
                return
            session.expunge(population)
            session.expunge(round_)
            pending = list(
                session.scalars(
                    select(Submission)
                    .join(ModelVersion, ModelVersion.submission_id == Submission.id)
                    .where(
                        ModelVersion.round_id == round_.id,
                        ModelVersion.kind == "patch",
                        ~exists().where(
                            PopulationOutput.population_id == population_id,
                            PopulationOutput.submission_id == Submission.id,
                        ),
                    )
                    .order_by(ModelVersion.version)
                )
            )
            for sub in pending:
                session.expunge(sub)
        features, n_rows = self._features(population, round_)
        measured = population.base_outputs_sha is not None
        if not (measured or self._measure_base(population, round_, features, n_rows)):
            return
        for sub in pending:
            self._renew(population_id)
            self._measure_pair(population, round_, sub, features, n_rows)

    def _features(self, population: Population, round_: Round) -> tuple[Path, int]:
        """The population's prepared features, written once per machine."""
        folder = self.cache_dir / f"round-{round_.id}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"population-{population.id}-{population.data_sha[:16]}.parquet"
        if not path.exists():
            frame = read_population(self.store, population)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            try:
                prepare_features(frame, round_schema(round_)).to_parquet(tmp)
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return path, population.n_rows

    def _measure_base(
        self, population: Population, round_: Round, features: Path, n_rows: int
    ) -> bool:
        if round_.base_model_sha is None:
            return self._fail(population.id, "the round has no base model")
        try:
            with self.store.local_copy(round_.base_model_sha) as model:
                outputs = run_sandboxed(
                    PairFiles(model=model, group_expression="True"),
                    round_schema(round_),
                    {SPLIT: features},
                    {SPLIT: n_rows},
                    self.limits,
                )
        except SandboxError as exc:
            return self._fail(population.id, f"the base model failed on this population: {exc}")
        sha = self.store.put_bytes(dump_outputs(outputs))
        with transaction(self.factory) as session:
            session.execute(
                update(Population)
                .where(Population.id == population.id)
                .values(base_outputs_sha=sha)
            )
        return True

    def _measure_pair(
        self, population: Population, round_: Round, sub: Submission, features: Path, n_rows: int
    ) -> None:
        sha, error = None, None
        try:
            with pair_files(self.store, sub) as pair:
                outputs = run_sandboxed(
                    pair, round_schema(round_), {SPLIT: features}, {SPLIT: n_rows}, self.limits
                )
            sha = self.store.put_bytes(dump_outputs(outputs))
        except SandboxError as exc:
            error = str(exc)
        try:
            with transaction(self.factory) as session:
                session.add(
                    PopulationOutput(
                        population_id=population.id,
                        submission_id=sub.id,
                        outputs_sha=sha,
                        error=error,
                    )
                )
        except IntegrityError:  # another worker stored it first (after our lease ran out)
            log.info("population %s: submission %s measured twice", population.id, sub.id)

    def _fail(self, population_id: int, error: str) -> bool:
        with transaction(self.factory) as session:
            session.execute(
                update(Population).where(Population.id == population_id).values(error=error)
            )
        log.warning("population %s cannot be measured: %s", population_id, error)
        return False

    def _renew(self, population_id: int) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(Population)
                .where(Population.id == population_id, Population.lease_owner == self.owner)
                .values(lease_expires_at=utcnow() + self._lease)
            )

    def _release(self, population_id: int) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(Population)
                .where(Population.id == population_id, Population.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None, attempts=0)
            )

    def _platform_failed(self, population_id: int, exc: SandboxUnavailable) -> None:
        """The machine failed, not the data: try again after a while, a few times."""
        with transaction(self.factory) as session:
            population = session.get(Population, population_id)
            if population is None:
                return
            population.attempts += 1
            population.lease_owner = None
            if population.attempts >= MAX_ATTEMPTS:
                population.error = f"the platform could not measure it: {exc}"
                population.lease_expires_at = None
            else:
                population.lease_expires_at = utcnow() + timedelta(seconds=RETRY_SECONDS)
        log.warning("population %s: the platform failed (%s)", population_id, exc)
