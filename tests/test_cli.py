"""The `lander` command as a user runs it: output formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import tmgen

LANDER = [sys.executable, "-m", "ground.cli"]


def lander(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LANDER, *args], input=stdin, capture_output=True, timeout=60)


def _capture(tmp_path: Path) -> Path:
    frames = tmgen.sequence("NAV", 5) + tmgen.sequence("HK", 2)
    data = b"".join(frames[:3]) + b"\x13\x37 line noise" + b"".join(frames[3:])
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    return path


def test_decode_jsonl_gives_one_object_per_packet_and_stats_last(tmp_path):
    result = lander("decode", str(_capture(tmp_path)), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    packets, stats = lines[:-1], lines[-1]
    assert [p["packet"] for p in packets] == ["NAV"] * 5 + ["HK"] * 2
    first = packets[0]
    assert set(first) == {"packet", "apid", "seq", "time", "values"}
    assert first["apid"] == tmgen.DICTIONARY["NAV"].apid
    assert first["values"]["lrf_valid"] == "INVALID"  # enumerations by state name
    assert stats == {
        "stats": {
            "bytes": _capture(tmp_path).stat().st_size,
            "frames": 8,
            "packets": 7,
            "crc_errors": 0,
            "undecodable": 1,
            "unknown_apid": 0,
            "gaps": 0,
            "missing": 0,
            "duplicates": 0,
            "out_of_order": 0,
            "resyncs": 1,
            "oversize_runs": 0,
        }
    }


def test_decode_reads_standard_input_and_prints_a_table(tmp_path):
    result = lander("decode", "-", stdin=_capture(tmp_path).read_bytes())
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "NAV" in out and "phase=" in out and "undecodable 1" in out


def test_decode_of_a_file_without_packets_exits_1_with_one_line(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(1, 256)) * 10)
    result = lander("decode", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().strip().splitlines() == [
        f"lander decode: no telemetry packet in {path}"
    ]


def test_user_mistakes_get_one_line_not_a_traceback(tmp_path):
    cases = [
        (("decode", str(tmp_path / "missing.bin")), "no such capture file"),
        (("monitor", "--link", "serial:///dev/ttyNOPE0"), "no serial port /dev/ttyNOPE0"),
        (("monitor", "--link", "gopher://x"), "unknown link"),
        (("monitor", "--link", "serial:///dev/ttyS0?baud=fast"), "baud='fast' is not a number"),
    ]
    for args, message in cases:
        result = lander(*args)
        err = result.stderr.decode()
        assert result.returncode == 3, (args, err)
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and message in err, err


def test_monitor_of_a_capture_shows_the_latest_values(tmp_path):
    result = lander("monitor", "--link", f"file://{_capture(tmp_path)}")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "NAV" in out and "altitude" in out and "packets 7" in out


def test_decode_takes_a_bare_path_as_a_path_whatever_characters_it_holds(tmp_path):
    (tmp_path / "cap?x.bin").write_bytes(b"".join(tmgen.sequence("NAV", 3)))
    (tmp_path / "cap").write_bytes(b"".join(tmgen.sequence("HK", 2)))  # what ? used to cut to
    (tmp_path / "run#2.bin").write_bytes(b"".join(tmgen.sequence("PROP", 1)))
    for name, packets in (("cap?x.bin", ["NAV"] * 3), ("run#2.bin", ["PROP"])):
        result = lander("decode", str(tmp_path / name), "--format", "jsonl")
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
        assert [p["packet"] for p in lines[:-1]] == packets
