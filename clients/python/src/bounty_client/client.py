"""The Python SDK: a typed client of the REST API for scripts and notebooks.

``BountyClient`` speaks to a Bias Bounty server with an API key (or an access token). Answers
are the API's own Pydantic schemas; errors are ``BountyError`` with the problem details.
Requests are retried with exponential back-off on connection errors, 429 and 503 (honouring
``Retry-After``), and every submission carries an ``Idempotency-Key``, so that a retry never
submits twice.
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from bounty_client.models import (
    AuditEventOut,
    AuditPageOut,
    BaseModelOut,
    ClosingReport,
    DatasetOut,
    ExpressionCheckOut,
    HistoryOut,
    LeaderboardOut,
    PopulationFiguresOut,
    PopulationOut,
    QuotaOut,
    RoundCreate,
    RoundImportOut,
    RoundOut,
    SubmissionAccepted,
    SubmissionOut,
)
from bounty_engine.schema import FeatureSchema

if TYPE_CHECKING:  # pandas, scikit-learn and the engine's loaders are imported when used:
    # a command that only talks to the server then starts in a fraction of a second.
    import pandas as pd

    from bounty_client.check import LocalCheck
    from bounty_engine.groups import Group

T = TypeVar("T", bound=BaseModel)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class BountyError(Exception):
    """The server refused a request: its status and problem details (RFC 9457)."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        self.type = str(problem.get("type", "about:blank"))
        self.detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        super().__init__(f"{self.detail} ({status} {self.type})")


class VerdictTimeoutError(TimeoutError):
    """No verdict came within the time allowed; the submission goes on being evaluated."""


ModelLike = bytes | str | Path | object
"""An h or group model: skops/ONNX bytes, a path to such a file, or a scikit-learn model."""


class BountyClient:
    """A client of one Bias Bounty server.

    ``BountyClient("https://bounty.example.org", api_key="bbk_...")``; as a context manager it
    closes its connections on exit. ``retries`` and ``backoff`` (seconds, doubled each time,
    with jitter, capped at ``max_backoff``) govern retries of failed requests.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=f"{self.url}/api/v1", headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> BountyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections."""
        self._http.close()

    # --- transport ------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying connection errors and 429/5xx-unavailable answers; raise
        ``BountyError`` for any other error answer."""
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt >= self.retries:
                    raise
                self._sleep(self._delay(attempt, None))
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                    return _checked(response)
                self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
            attempt += 1
            _rewind(kwargs)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_backoff)
        exponential: float = self.backoff * 2.0**attempt
        return min(self.max_backoff, exponential * (0.5 + random.random() / 2))  # noqa: S311

    def _get(self, path: str, model: type[T], **params: Any) -> T:
        return model.model_validate(self.request("GET", path, params=params or None).json())

    # --- reading --------------------------------------------------------------------------

    def rounds(self) -> list[RoundOut]:
        """The rounds the caller can see."""
        data = self.request("GET", "/rounds").json()
        return TypeAdapter(list[RoundOut]).validate_python(data)

    def round(self, slug: str) -> RoundOut:
        """One round: rules, data sizes, base model, schedule."""
        return self._get(f"/rounds/{slug}", RoundOut)

    def schema(self, slug: str) -> FeatureSchema:
        """The round's feature columns and label."""
        return self._get(f"/rounds/{slug}/schema", FeatureSchema)

    def train_data(self, slug: str) -> pd.DataFrame:
        """The round's public training split (features and label) as a DataFrame."""
        content = self.request("GET", f"/rounds/{slug}/data/train.parquet").content
        import pandas as pd  # noqa: PLC0415 (see the imports)

        return pd.read_parquet(io.BytesIO(content))

    def leaderboard(self, slug: str) -> LeaderboardOut:
        """Teams ranked by credited improvement (as the round discloses it)."""
        return self._get(f"/rounds/{slug}/leaderboard", LeaderboardOut)

    def history(self, slug: str) -> HistoryOut:
        """The model's versions and their losses."""
        return self._get(f"/rounds/{slug}/history", HistoryOut)

    def quota(self, slug: str) -> QuotaOut:
        """The caller's team's submissions left today."""
        return self._get(f"/rounds/{slug}/quota", QuotaOut)

    def check_expression(self, slug: str, expression: str) -> ExpressionCheckOut:
        """Whether a group rule is valid for the round (no quota used)."""
        answer = self.request(
            "POST", f"/rounds/{slug}/expressions/check", json={"expression": expression}
        )
        return ExpressionCheckOut.model_validate(answer.json())

    def submission(self, submission_id: int) -> SubmissionOut:
        """One of the team's submissions, with its verdict once decided."""
        return self._get(f"/submissions/{submission_id}", SubmissionOut)

    def submissions(self, slug: str) -> list[SubmissionOut]:
        """The team's submissions in the round, newest first."""
        data = self.request("GET", f"/rounds/{slug}/submissions").json()
        return TypeAdapter(list[SubmissionOut]).validate_python(data)

    def current_predictions(self, slug: str) -> tuple[int, pd.Series[Any]]:
        """The current model's version and its predictions on the train split (row order)."""
        answer = self.request("GET", f"/rounds/{slug}/data/train-predictions.parquet")
        import pandas as pd  # noqa: PLC0415 (see the imports)

        table = pd.read_parquet(io.BytesIO(answer.content))
        return int(answer.headers["X-Model-Version"]), table["prediction"]

    def check(
        self,
        slug: str,
        model: ModelLike,
        *,
        group: str | None = None,
        group_model: ModelLike | None = None,
        train: pd.DataFrame | None = None,
    ) -> LocalCheck:
        """Decide a pair locally on the public train split with the round's rules, against
        the current model, using the platform's own engine (no quota used). ``train``, if
        given, saves downloading the split again."""
        from bounty_client.check import check_pair, round_rules  # noqa: PLC0415
        from bounty_engine.groups import ModelGroup, RuleGroup  # noqa: PLC0415
        from bounty_engine.models import load_model  # noqa: PLC0415

        if (group is None) == (group_model is None):
            raise ValueError("give exactly one of group (a rule) or group_model")
        found = self.round(slug)
        schema = self.schema(slug)
        frame = train if train is not None else self.train_data(slug)
        _, current = self.current_predictions(slug)
        rules = round_rules(found.rules)
        names = schema.feature_names
        g: Group = (
            RuleGroup.parse(group, schema)
            if group is not None
            else ModelGroup(load_model(_model_bytes(group_model), feature_names=names))
        )
        h = load_model(_model_bytes(model), feature_names=names)
        n_holdout = found.data.n_holdout if found.data else 0
        return check_pair(
            schema, rules, frame, current.to_numpy(), n_holdout=n_holdout, group=g, model=h
        )

    # --- submitting -----------------------------------------------------------------------

    def submit(
        self,
        slug: str,
        model: ModelLike,
        *,
        group: str | None = None,
        group_model: ModelLike | None = None,
        note: str = "",
        idempotency_key: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> SubmissionAccepted:
        """Submit a pair: ``group`` (a rule) or ``group_model``, and the model h. Models may
        be scikit-learn objects (saved with skops here), bytes, or file paths. Retries reuse
        one idempotency key, so the server stores the pair once. ``progress(sent, total)`` is
        called as the upload's bytes go out."""
        if (group is None) == (group_model is None):
            raise ValueError("give exactly one of group (a rule) or group_model")
        files = {"model": ("h.model", _model_bytes(model))}
        if group_model is not None:
            files["group_model"] = ("g.model", _model_bytes(group_model))
        data = {"note": note} | ({"group_expression": group} if group is not None else {})
        # Encode the multipart body once; every attempt streams the same bytes.
        encoded = httpx.Request("POST", self.url, data=data, files=files)
        body = encoded.read()
        headers = {
            "Idempotency-Key": idempotency_key or uuid.uuid4().hex,
            "Content-Type": encoded.headers["Content-Type"],
            "Content-Length": str(len(body)),
        }
        answer = self.request(
            "POST",
            f"/rounds/{slug}/submissions",
            content=_UploadBody(body, progress),
            headers=headers,
        )
        return SubmissionAccepted.model_validate(answer.json())

    def wait(
        self,
        submission_id: int,
        *,
        timeout: float = 600.0,
        poll: float = 0.5,
        on_status: Callable[[SubmissionOut], None] | None = None,
    ) -> SubmissionOut:
        """The submission once decided; ``VerdictTimeoutError`` after ``timeout`` seconds.
        ``on_status`` is called with the submission whenever its status changes."""
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            current = self.submission(submission_id)
            if on_status is not None and current.status != seen:
                seen = current.status
                on_status(current)
            if current.status == "decided":
                return current
            if time.monotonic() >= deadline:
                raise VerdictTimeoutError(
                    f"submission {submission_id} is still {current.status} after {timeout:g} s"
                )
            self._sleep(min(poll, max(0.0, deadline - time.monotonic())))

    # --- organizing -----------------------------------------------------------------------

    def create_round(self, settings: RoundCreate | Mapping[str, Any]) -> RoundOut:
        """Create a draft round (organizers): title, rules, disclosure, schedule."""
        body = RoundCreate.model_validate(settings).model_dump(mode="json", exclude_unset=True)
        return RoundOut.model_validate(self.request("POST", "/rounds", json=body).json())

    def upload_dataset(
        self,
        slug: str,
        *,
        label: str,
        file: str | Path | None = None,
        splits: Mapping[str, str | Path] | None = None,
        fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
        seed: int = 0,
    ) -> DatasetOut:
        """Upload the round's data: one CSV/Parquet ``file`` split at random by ``fractions``
        (train, holdout, test) and ``seed``, or ``splits`` with train, holdout and test files."""
        if (file is None) == (splits is None):
            raise ValueError("give exactly one of file or splits")
        named = {"file": file} if file is not None else dict(splits or {})
        data = {
            "label": label,
            "train_fraction": fractions[0],
            "holdout_fraction": fractions[1],
            "test_fraction": fractions[2],
            "seed": seed,
        }
        with ExitStack() as stack:
            files = {
                name: (Path(path).name, stack.enter_context(Path(path).open("rb")))
                for name, path in named.items()
            }
            answer = self.request("POST", f"/rounds/{slug}/dataset", data=data, files=files)
        return DatasetOut.model_validate(answer.json())

    def set_base_model(self, slug: str, model: ModelLike | None = None) -> BaseModelOut:
        """Set the base model f0 from a model (as for ``submit``), or train the platform's
        documented default on the train split when ``model`` is None."""
        if model is None:
            answer = self.request("POST", f"/rounds/{slug}/base-model/default")
        else:
            files = {"file": ("base.model", _model_bytes(model))}
            answer = self.request("POST", f"/rounds/{slug}/base-model", files=files)
        return BaseModelOut.model_validate(answer.json())

    def set_status(self, slug: str, action: Literal["open", "freeze", "close"]) -> RoundOut:
        """Move a round through its lifecycle: open, freeze or close it."""
        return RoundOut.model_validate(self.request("POST", f"/rounds/{slug}/{action}").json())

    def export(self, slug: str, target: str | Path) -> Path:
        """Download the round's current model as a bundle zip to ``target``."""
        path = Path(target)
        path.write_bytes(self.request("GET", f"/rounds/{slug}/export").content)
        return path

    def report(self, slug: str) -> ClosingReport:
        """The closing report: base vs final on holdout and test, teams, groups."""
        return self._get(f"/rounds/{slug}/report", ClosingReport)

    def add_population(
        self, slug: str, file: str | Path, *, name: str, description: str = ""
    ) -> PopulationOut:
        """Add a deployment population to an open round (its organizer or a deployer): a
        CSV/Parquet table with the round's features and label, never shown to participants
        and never deciding; the workers measure every version on it."""
        path = Path(file)
        with path.open("rb") as stream:
            answer = self.request(
                "POST",
                f"/rounds/{slug}/populations",
                data={"name": name, "description": description},
                files={"file": (path.name, stream)},
            )
        return PopulationOut.model_validate(answer.json())

    def populations(self, slug: str) -> list[PopulationOut]:
        """The round's populations the caller may read."""
        data = self.request("GET", f"/rounds/{slug}/populations").json()
        return TypeAdapter(list[PopulationOut]).validate_python(data)

    def population(self, slug: str, population_id: int) -> PopulationFiguresOut:
        """Every version and group of the round's model measured on one population."""
        return self._get(f"/rounds/{slug}/populations/{population_id}", PopulationFiguresOut)

    def export_archive(self, slug: str, target: str | Path) -> Path:
        """Download the whole round (data, submissions, verdicts, versions, audit log, files)
        as one archive to ``target``."""
        path = Path(target)
        path.write_bytes(self.request("GET", f"/rounds/{slug}/archive").content)
        return path

    def import_archive(self, archive: str | Path, *, slug: str | None = None) -> RoundImportOut:
        """Import a round archive on this server; it is replayed and must reproduce exactly."""
        with Path(archive).open("rb") as file:
            answer = self.request(
                "POST",
                "/rounds/import",
                files={"file": (Path(archive).name, file, "application/zip")},
                data={"slug": slug} if slug else {},
            )
        return RoundImportOut.model_validate(answer.json())

    def audit_log(self, slug: str, *, action: str | None = None) -> Iterator[AuditEventOut]:
        """Every entry of the round's audit log, oldest first, fetched page by page."""
        after: int | None = 0
        while after is not None:
            params: dict[str, Any] = {"after": after} | ({"action": action} if action else {})
            page = AuditPageOut.model_validate(
                self.request("GET", f"/rounds/{slug}/audit", params=params).json()
            )
            yield from page.events
            after = page.next_after

    def export_audit_log(self, slug: str, target: str | Path) -> Path:
        """Download the round's whole audit log as JSON Lines to ``target``."""
        path = Path(target)
        path.write_bytes(self.request("GET", f"/rounds/{slug}/audit.jsonl").content)
        return path


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    raise BountyError(response.status_code, problem)


class _UploadBody:
    """A request body sent in chunks, reporting progress; iterable again for each retry."""

    CHUNK = 64 * 1024

    def __init__(self, body: bytes, progress: Callable[[int, int], None] | None) -> None:
        self.body = body
        self.progress = progress

    def __iter__(self) -> Iterator[bytes]:
        total = len(self.body)
        for start in range(0, total, self.CHUNK):
            chunk = self.body[start : start + self.CHUNK]
            yield chunk
            if self.progress is not None:
                self.progress(start + len(chunk), total)


def _rewind(kwargs: dict[str, Any]) -> None:
    """Multipart bodies are rebuilt from bytes on every attempt; nothing to rewind then."""
    for value in (kwargs.get("files") or {}).values():
        handle = value[1] if isinstance(value, tuple) else value
        if hasattr(handle, "seek"):
            handle.seek(0)


def _model_bytes(model: ModelLike) -> bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, str | Path):
        return Path(model).read_bytes()
    from bounty_engine.models import dump_sklearn_model  # noqa: PLC0415 (scikit-learn)

    return dump_sklearn_model(model)
