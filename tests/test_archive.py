"""The archive: what a flight left behind is kept, queried, exported, replayed and survives
a killed process, a full disk and two writers at once."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.archive import ArchiveWriter, open_archive
from ground.archive.columns import ColumnDecoder
from ground.archive.replay import ArchiveLink
from ground.decoder import TelemetryDecoder
from ground.links import LinkClosed
from schemas import model
from sil import scenarios

from . import tmgen

LANDER = [sys.executable, "-m", "ground.cli"]
DICTIONARY = model.load()


@pytest.fixture(autouse=True)
def archive_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Archiving as a user has it: on, into $LANDER_ARCHIVE."""
    path = tmp_path / "default-archive.sqlite"
    monkeypatch.setenv("LANDER_ARCHIVE", str(path))
    return path


def lander(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LANDER, *args], capture_output=True, text=True, timeout=120, env=env, **kw
    )


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole nominal descent's telemetry, flown in the MicroPython VM."""
    path = tmp_path_factory.mktemp("flight") / "nominal.bin"
    path.write_bytes(scenarios.fly(scenarios.scenario_config("nominal", seed=3)))
    return path


@pytest.fixture
def archived(flight: Path, tmp_path: Path) -> tuple[str, list]:
    db = str(tmp_path / "archive.sqlite")
    result = lander("archive", "--archive", db, "import", str(flight), "--vehicle", "LANDER-7")
    assert result.returncode == 0, result.stderr
    return db, TelemetryDecoder().decode_all(flight.read_bytes())


def test_an_imported_flight_is_listed_with_its_counts(archived):
    """The session is labelled by the vehicle's own IDENT (its id and boot), not the
    --vehicle given for a capture that says who it is."""
    db, packets = archived
    result = lander("archive", "--archive", db, "list")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert "vehicle" in header and "packets" in header
    fields = row.split()
    assert fields[:3] == ["1", "LANDER-1", "1"]
    assert str(len(packets)) in fields


def test_a_parameter_query_gives_every_sample_with_the_decoders_values(archived):
    db, packets = archived
    nav = [p for p in packets if p.name == "NAV" and 100 <= p.time <= 130]
    result = lander(
        "archive", "--archive", db, "query", "NAV.altitude", "--session", "last",
        "--by", "vehicle", "--from", "100", "--to", "130", "--format", "jsonl",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["vehicle_time"] for r in rows] == pytest.approx([p.time for p in nav])
    assert [r["value"] for r in rows] == [p.values["altitude"] for p in nav]


def test_the_python_api_reads_like_a_query(archived):
    db, packets = archived
    with open_archive(db) as archive:
        session = archive.session("last")
        rows = archive.parameter("PROP.propellant_mass", session=session.id)
        assert len(rows) == sum(p.name == "PROP" for p in packets)
        assert rows[0].vehicle_time <= rows[-1].vehicle_time
        assert {r.state for r in rows} <= {"GREEN", "YELLOW", "RED"}
        ground = archive.parameter("PROP.propellant_mass", rows[0].ground_time, rows[9].ground_time)
        assert len(ground) == 10


def test_events_and_bad_names_at_the_command_line(archived):
    db, packets = archived
    events = [p for p in packets if p.name == "EVENT"]
    result = lander("archive", "--archive", db, "events")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(events)
    assert "TOUCHDOWN" in result.stdout
    for args, message in [
        (("query", "NAV.altitud"), "packet NAV has no field 'altitud'"),
        (("query", "altitude"), "name a parameter as PACKET.field"),
        (("export", "9", "--out", "x"), "no session 9"),
        (("query", "NAV.altitude", "--from", "yesterday"), "is not a time"),
    ]:
        bad = lander("archive", "--archive", db, *args)
        assert bad.returncode == 2, bad.stderr
        assert "Traceback" not in bad.stderr and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_export_csv_and_parquet_and_a_plot(archived, tmp_path):
    db, packets = archived
    pyarrow = pytest.importorskip("pyarrow.parquet")
    for fmt in ("csv", "parquet"):
        result = lander("archive", "--archive", db, "export", "last", "--format", fmt,
                        "--out", str(tmp_path / fmt))  # fmt: skip
        assert result.returncode == 0, result.stderr
    lines = (tmp_path / "csv" / "NAV.csv").read_text().splitlines()
    nav = [p for p in packets if p.name == "NAV"]
    assert len(lines) == 1 + len(nav)
    assert lines[0].startswith("vehicle_time,ground_time,seq,")
    table = pyarrow.read_table(tmp_path / "parquet" / "HK.parquet")
    hk = [p for p in packets if p.name == "HK"]
    assert table.num_rows == len(hk)
    assert table.column("phase").to_pylist() == [p.values["phase"] for p in hk]
    png = tmp_path / "descent.png"
    result = lander("archive", "--archive", db, "plot", "NAV.altitude", "NAV.vel_vertical",
                    "--out", str(png))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_replay_goes_through_the_same_decoder_as_live(archived):
    db, packets = archived
    link = ArchiveLink(f"archive://last?speed=max&db={db}")
    decoder = TelemetryDecoder()
    replayed = []
    try:
        while True:
            replayed += decoder.feed(link.read())
    except LinkClosed:
        pass
    assert replayed == packets
    assert decoder.stats.gaps == 0 and decoder.stats.bad_frames == 0
    result = lander("monitor", "--link", f"archive://last?speed=max&db={db}", "--no-archive")
    assert result.returncode == 0, result.stderr
    assert "NAV" in result.stdout


@settings(max_examples=40, deadline=None)
@given(st.lists(tmgen.packets(DICTIONARY["NAV"]), min_size=1, max_size=30))
def test_bulk_columns_equal_the_per_packet_decoder(contents):
    datas = [tmgen.build(c) for c in contents]
    decoded = TelemetryDecoder().decode_all(b"".join(tmgen.frame(d) for d in datas))
    columns = ColumnDecoder(DICTIONARY).decode(DICTIONARY["NAV"], datas)
    for packet, row in zip(decoded, columns.tolist(), strict=True):
        for value, expected in zip(row[5:-1], packet.raw[2:], strict=True):
            assert value == expected or (math.isnan(value) and math.isnan(expected))


INGEST = """
import os, sys
from ground.archive import ArchiveWriter
from ground.decoder import TelemetryDecoder
writer = ArchiveWriter(sys.argv[1], vehicle="LANDER-1", link="stdin", dictionary="x",
                       batch=int(sys.argv[2]), interval=0.05)
decoder = TelemetryDecoder()
while chunk := os.read(0, 4096):
    for packet in decoder.feed(chunk):
        writer.add(packet.data)
"""


def _stored(db: str) -> list[int]:
    if not os.path.exists(db):
        return []
    with sqlite3.connect(db) as c:
        try:
            return [row[0] for row in c.execute("SELECT seq FROM packets ORDER BY rowid")]
        except sqlite3.OperationalError:  # the writer has not made its tables yet
            return []


def test_a_writer_killed_mid_ingest_loses_at_most_its_open_batch(tmp_path):
    db = str(tmp_path / "archive.sqlite")
    batch = 50
    proc = subprocess.Popen([sys.executable, "-c", INGEST, db, str(batch)], stdin=subprocess.PIPE)
    frames = tmgen.sequence("NAV", 400)
    try:
        # 300 packets, given time to be committed (the writer commits every 50 ms)...
        proc.stdin.write(b"".join(frames[:300]))
        proc.stdin.flush()
        _wait_for(lambda: len(_stored(db)) == 300)
        # ...then 30 more, fewer than a batch, and the process is killed at once.
        proc.stdin.write(b"".join(frames[300:330]))
        proc.stdin.flush()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = _stored(db)
    assert 300 <= len(stored) <= 330
    assert stored == list(range(len(stored)))  # a prefix, in order, nothing torn


def _wait_for(condition, timeout: float = 30.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.02)


def test_two_processes_archiving_at_once_keep_both_sessions(flight, tmp_path):
    db = str(tmp_path / "archive.sqlite")
    procs = [
        subprocess.Popen(
            [*LANDER, "archive", "--archive", db, "import", str(flight), "--vehicle", f"V{i}"],
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    count = len(TelemetryDecoder().decode_all(flight.read_bytes()))
    with open_archive(db) as archive:
        sessions = archive.sessions()
        assert [(s.vehicle, s.boot, s.packets) for s in sessions] == 2 * [("LANDER-1", 1, count)]
        assert sorted(s.link for s in sessions) == 2 * [f"file://{flight}"]


def test_a_full_disk_gets_one_line_and_decoding_goes_on(flight, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)]).returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        result = lander("archive", "--archive", str(mnt / "a.sqlite"), "import", str(flight))
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "disk is full" in line]
    assert len(errors) == 1, result.stderr
    assert "no longer archived" in errors[0]


def test_a_stalled_archive_keeps_a_bounded_queue_and_counts_what_it_dropped(tmp_path):
    writer = ArchiveWriter(
        str(tmp_path / "a.sqlite"), vehicle="V", link="x", dictionary="d",
        batch=1000, interval=3600, max_pending=10,
    )  # fmt: skip
    for packet in TelemetryDecoder().decode_all(b"".join(tmgen.sequence("NAV", 25))):
        writer.add(packet.data)
    writer.close()
    assert (writer.written, writer.dropped) == (10, 15)
    with open_archive(str(tmp_path / "a.sqlite")) as archive:
        assert archive.session("last").packets == 10


@pytest.mark.vm
@pytest.mark.pty
def test_a_tool_that_owns_a_link_archives_by_default_and_says_where(archive_on):
    result = lander("monitor", "--link", "sil://?time_warp=20", "--duration", "4")
    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if line.startswith("archiving to")]
    assert notice == [f"archiving to {archive_on} (session 1; --no-archive turns it off)"]
    with open_archive(str(archive_on)) as archive:
        [session] = archive.sessions()
        assert (session.vehicle, session.boot) == ("LANDER-1", 1)
        assert session.packets > 10 and session.ended is not None
        assert session.link.startswith("sil://")
    quiet = lander("monitor", "--link", "sil://?time_warp=20", "--duration", "2", "--no-archive")
    assert quiet.returncode == 0 and "archiving" not in quiet.stderr
    with open_archive(str(archive_on)) as archive:
        assert len(archive.sessions()) == 1


@pytest.mark.vm
@pytest.mark.pty
def test_a_command_is_archived_with_who_sent_it_and_every_stage(archive_on):
    import getpass

    result = lander("cmd", "--link", "sil://?autostart=0&time_warp=10", "PING", "token=5")
    assert result.returncode == 0, result.stderr
    with open_archive(str(archive_on)) as archive:
        [command] = archive.commands()
        [session] = archive.sessions()
    assert (command.name, command.args, command.vehicle) == ("PING", {"token": 5}, "LANDER-1")
    assert command.requester == getpass.getuser() and command.session == session.id
    assert [stage for stage, _, _ in command.stages] == ["ACCEPTED", "STARTED", "COMPLETED"]
    assert command.sent <= command.stages[0][2] <= command.stages[-1][2]
    shown = lander("archive", "commands")
    assert shown.returncode == 0, shown.stderr
    assert "PING token=5" in shown.stdout and "COMPLETED" in shown.stdout
