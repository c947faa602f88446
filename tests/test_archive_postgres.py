"""The same archive on a real PostgreSQL server, started by the test on loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from ground.archive import ArchiveWriter, open_archive
from ground.decoder import TelemetryDecoder
from hil import postgres as postgres_server

from . import tmgen


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if not postgres_server.available():
        reason = "PostgreSQL server not installed (.ci/run installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres_server.local_postgres() as url:
        yield url


def test_packets_sessions_and_commands_round_trip_through_postgresql(postgres):
    frames = tmgen.sequence("NAV", 120)
    packets = TelemetryDecoder().decode_all(b"".join(frames))
    with ArchiveWriter(postgres, vehicle="LANDER-9", link="test", dictionary="d", batch=50) as w:
        for packet in packets:
            w.add(packet.data)
    with open_archive(postgres) as archive:
        session = [s for s in archive.sessions() if s.vehicle == "LANDER-9"][-1]
        assert session.packets == 120
        rows = archive.parameter("NAV.altitude", session=session.id)
        assert [r.value for r in rows] == [p.values["altitude"] for p in packets]
        archive.record_command("req-1", "LANDER-9", "alice", "PING", {"token": 7}, 3, 100.0)
        archive.record_stage("req-1", "ACCEPTED", "", 100.1)
        [command] = archive.commands("LANDER-9")
        assert (command.requester, command.args, command.stages[0][0]) == (
            "alice", {"token": 7}, "ACCEPTED",
        )  # fmt: skip


def test_a_wrong_postgresql_url_gets_one_line(postgres):
    from ground.archive import ArchiveError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = postgres.rsplit(":", 1)[0] + f":{port}/postgres"
    with pytest.raises(ArchiveError, match="cannot connect to"):
        open_archive(bad)
