"""The SDK against a real server (bounty demo: uvicorn on loopback and a worker)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.seed import DEMO_SLUG
from bounty_client import BountyClient, BountyError
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.support.servers import DemoServer

RULE = "capital_gain > 0"
OWN_SERVER = True  # RULE's pair must be accepted: see tests/sdk/conftest.py


class FlakyTransport(httpx.BaseTransport):
    """Forwards to the real server, but answers 503 to the first POST after forwarding it: the
    server stored the submission, the client never heard (a proxy dropped the answer)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.failed = False
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/submissions"):
            self.posts += 1
            if not self.failed:
                self.failed = True
                response.read()
                return httpx.Response(503, headers={"Retry-After": "0"}, json={})
        return response


def test_a_participant_submits_a_model_object_and_waits_for_the_verdict(
    server: DemoServer, api_key: str
) -> None:
    with BountyClient(server.url, api_key=api_key) as client:
        assert DEMO_SLUG in [r.slug for r in client.rounds()]
        schema = client.schema(DEMO_SLUG)
        train = client.train_data(DEMO_SLUG)
        assert len(train) == client.round(DEMO_SLUG).data.n_train  # type: ignore[union-attr]
        check = client.check_expression(DEMO_SLUG, RULE)
        assert check.valid
        assert check.columns == ["capital_gain"]
        mask = RuleGroup.parse(RULE, schema).mask(prepare_features(train, schema))
        h = train_patch_model(train, schema, mask)  # a scikit-learn object: saved with skops
        before = client.quota(DEMO_SLUG).remaining
        accepted = client.submit(DEMO_SLUG, h, group=RULE, note="from the SDK")
        assert accepted.quota.remaining == before - 1
        verdict = client.wait(accepted.submission.id, timeout=120)
        assert verdict.verdict is not None
        assert verdict.verdict.outcome == "accepted"
        board = client.leaderboard(DEMO_SLUG)
        assert board.entries[0].accepted >= 1
        assert [v.version for v in client.history(DEMO_SLUG).versions][-1] >= 1


def test_a_retry_after_a_lost_answer_does_not_submit_twice(
    server: DemoServer, api_key: str, tmp_path: Path
) -> None:
    transport = FlakyTransport()
    delays: list[float] = []
    with BountyClient(server.url, api_key=api_key) as reader:
        model_path = tmp_path / "h.skops"
        schema, train = reader.schema(DEMO_SLUG), reader.train_data(DEMO_SLUG)
        mask = RuleGroup.parse("age >= 60", schema).mask(prepare_features(train, schema))
        model_path.write_bytes(dump_sklearn_model(train_patch_model(train, schema, mask)))
        count_before = len(reader.submissions(DEMO_SLUG))
    with BountyClient(
        server.url, api_key=api_key, transport=transport, sleep=delays.append
    ) as client:
        accepted = client.submit(DEMO_SLUG, model_path, group="age >= 60")
        assert transport.posts == 2  # the first answer was lost, the retry got through
        assert delays == [0.0]  # Retry-After honoured
        submissions = client.submissions(DEMO_SLUG)
        assert len(submissions) == count_before + 1  # stored once
        assert submissions[0].id == accepted.submission.id


def test_errors_carry_the_problem_details_and_are_not_retried(
    server: DemoServer, api_key: str
) -> None:
    delays: list[float] = []
    with BountyClient(server.url, api_key=api_key, sleep=delays.append) as client:
        with pytest.raises(BountyError) as refused:
            client.submit(DEMO_SLUG, b"not a model", group="capital_gainz > 0")
        assert refused.value.status == 422
        assert "capital_gainz" in refused.value.detail
        assert refused.value.problem["errors"][0]["offset"] == 0
        with pytest.raises(BountyError) as missing:
            client.round("no-such-round")
        assert (missing.value.status, missing.value.type) == (404, "/problems/round-not-found")
    assert delays == []
    with (
        BountyClient(server.url, api_key="bbk_wrong") as stranger,
        pytest.raises(BountyError) as bad,
    ):
        stranger.quota(DEMO_SLUG)
    assert bad.value.status == 401


def test_connection_errors_are_retried_with_back_off() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=[])

    delays: list[float] = []
    client = BountyClient(
        "http://bounty.invalid", transport=httpx.MockTransport(answer), sleep=delays.append
    )
    assert client.rounds() == []
    assert len(calls) == 3
    # back-off 0.5 s, doubled, with jitter in [50%, 100%]
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    failing = BountyClient(
        "http://bounty.invalid",
        retries=1,
        transport=httpx.MockTransport(refuse),
        sleep=delays.append,
    )
    with pytest.raises(httpx.ConnectError):
        failing.rounds()
    assert len(delays) == 3  # one retry, then the error
