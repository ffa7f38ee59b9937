"""The evaluation child's confinement, probed from inside a child confined the same way."""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path

from app.evaluation import sandbox


def _probe(port: int, report: str) -> None:
    """Runs in a child from the sandbox's fork server: confine, then try to phone home."""
    offline = sandbox._limit_child(sandbox.Limits())
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        outcome = {"offline": offline, "connected": True}
    except OSError as exc:
        outcome = {"offline": offline, "connected": False, "errno": exc.errno}
    Path(report).write_text(json.dumps(outcome))


def test_the_child_cannot_reach_the_network_not_even_this_host(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # the kernel completes handshakes
    port = listener.getsockname()[1]
    # The host's own loopback is reachable from here...
    socket.create_connection(("127.0.0.1", port), timeout=5).close()

    report = tmp_path / "probe.json"
    child = sandbox._context().Process(target=_probe, args=(port, str(report)))
    child.start()
    child.join(60)
    listener.close()
    assert child.exitcode == 0
    outcome = json.loads(report.read_text())
    # ...but not from the child, which has a network of its own with no interface up.
    assert outcome["offline"] is True
    assert outcome["connected"] is False
    assert outcome["errno"] == errno.ENETUNREACH
