"""Every packet can be traced to the vehicle, boot, firmware build and dictionary that made it;
the ground says once, in one line, when a vehicle's dictionary is not its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ground.decoder import TelemetryDecoder
from ground.identity import IdentityWatch, build_id
from hil import vm
from schemas import fingerprint
from sil.firmware import install_sources
from sil.vm import find_micropython

from . import tmgen

OWN = fingerprint.id_text(fingerprint.dictionary_id())


def _boot(flash: Path) -> list:
    """One short boot of the firmware's own main.py on ``flash``; its decoded telemetry."""
    proc = subprocess.run(
        [find_micropython(), "-X", f"heapsize={vm.HEAP}", "main.py"],
        cwd=flash,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return TelemetryDecoder().decode_all(proc.stdout)


@pytest.mark.vm
def test_ident_says_vehicle_boot_build_and_dictionary_and_comes_first(tmp_path: Path):
    flash = tmp_path / "flash"
    install_sources(flash, {"vehicle": "TEST-7", "key_id": 3, "halt_s": 12, "time_warp": 10000})
    modules = {p.name: p.read_bytes() for p in flash.iterdir()}
    first = _boot(flash)
    second = _boot(flash)

    assert first[0].name == "IDENT", "IDENT is the first packet of a boot"
    ident = first[0].values
    assert ident["vehicle"] == "TEST-7"
    assert ident["key_id"] == 3
    assert fingerprint.id_text(ident["dictionary"]) == OWN
    assert fingerprint.id_text(ident["firmware"]) == build_id(modules)
    # Periodic: again 10 s later; the boot counter lives in flash and counts boots.
    assert [p.values["boot"] for p in first if p.name == "IDENT"] == [1, 1]
    assert {p.values["boot"] for p in second if p.name == "IDENT"} == {2}
    boot_event = next(p.event for p in second if p.event and p.event.name == "BOOT")
    assert boot_event.args["boot"] == 2


def _ident(dictionary: int, boot: int, seq: int) -> bytes:
    values = tmgen.values(
        "IDENT", vehicle="LANDER-9", boot=boot, firmware=0xABCDEF01, dictionary=dictionary
    )
    return tmgen.frame(
        tmgen.build({"name": "IDENT", "seq": seq, "coarse": seq, "fine": 0, "values": values})
    )


def _decode(data: bytes, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(data)
    return subprocess.run(
        [sys.executable, "-m", "ground.cli", "decode", *options, str(capture)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_foreign_dictionary_is_warned_once_in_one_line(tmp_path: Path):
    foreign = fingerprint.dictionary_id() ^ 0x5A5A5A5A
    data = _ident(foreign, 4, 0) + b"".join(tmgen.sequence("HK", 3)) + _ident(foreign, 4, 1)
    result = _decode(data, tmp_path)
    assert result.returncode == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1, result.stderr
    assert "vehicle LANDER-9" in warnings[0]
    assert f"dictionary {foreign:08x}, this ground's is {OWN}" in warnings[0]


def test_the_own_dictionary_is_not_warned(tmp_path: Path):
    result = _decode(_ident(fingerprint.dictionary_id(), 1, 0), tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_every_packet_is_stamped_with_the_boot_it_came_from(tmp_path: Path):
    own = fingerprint.dictionary_id()
    data = (
        b"".join(tmgen.sequence("HK", 1))  # before any IDENT: not traceable yet
        + _ident(own, 7, 0)
        + b"".join(tmgen.sequence("HK", 2, start_seq=1))
        + _ident(own, 8, 1)  # the vehicle rebooted
        + b"".join(tmgen.sequence("HK", 1, start_seq=3))
    )
    result = _decode(data, tmp_path, "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()][:-1]
    boots = [r.get("identity", {}).get("boot") for r in records]
    assert boots == [None, 7, 7, 7, 8, 8]
    assert records[1]["identity"] == {
        "vehicle": "LANDER-9",
        "boot": 7,
        "firmware": "abcdef01",
        "dictionary": OWN,
        "key_id": 0,
    }


def test_decoder_exposes_the_identity_for_a_bus_to_stamp_packets():
    decoder = TelemetryDecoder()
    assert decoder.identity.current is None
    decoder.feed(_ident(fingerprint.dictionary_id(), 5, 0))
    current = decoder.identity.current
    assert current is not None and (current.vehicle, current.boot) == ("LANDER-9", 5)
    assert str(current) == f"LANDER-9 boot 5 firmware abcdef01 dictionary {OWN}"
    assert isinstance(decoder.identity, IdentityWatch)


def test_the_bus_stamps_every_packet_with_its_vehicle_and_boot(tmp_path: Path):
    from ground.bus import Received, TelemetryBus

    own = fingerprint.dictionary_id()
    capture = tmp_path / "two-boots.bin"
    capture.write_bytes(
        b"".join(tmgen.sequence("HK", 1))
        + _ident(own, 7, 0)
        + b"".join(tmgen.sequence("HK", 2, start_seq=1))
        + _ident(own, 8, 1)
        + b"".join(tmgen.sequence("HK", 1, start_seq=3))
    )
    bus = TelemetryBus(f"file://{capture}")
    queue = bus.queue()
    bus.start()
    received = [e for e in queue if isinstance(e, Received)]
    bus.close()
    stamps = [(r.packet.name, r.identity.boot if r.identity else None) for r in received]
    assert stamps == [
        ("HK", None),
        ("IDENT", 7),
        ("HK", 7),
        ("HK", 7),
        ("IDENT", 8),
        ("HK", 8),
    ]
    assert {r.identity.vehicle for r in received if r.identity} == {"LANDER-9"}
