"""The dictionary is the one place the vehicle's facts live: ranges, the fault table, the
telecommand layout and the heap are defined in schemas/ and generated into the firmware."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.telecommand import build
from hil import onboard, vm
from schemas import commands, model, wire

from . import tcgen

D = commands.load()
FAULT = D["INJECT_FAULT"]


@pytest.mark.vm
def test_time_warp_range_is_the_firmwares_and_the_readmes():
    assert D["SET_TIME_WARP"].raw_values({"factor": 10000}) == (10000,)
    with pytest.raises(commands.ArgumentError, match=r"factor=10001 is out of range .*1..10000"):
        D["SET_TIME_WARP"].raw_values({"factor": 10001})
    out = vm.run("import app\nprint(app.MAX_WARP)").stdout
    assert int(out) == 10000
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "`SET_TIME_WARP`, 1 to 10,000" in readme


@pytest.mark.vm
def test_the_board_runs_the_largest_time_warp_the_dictionary_allows(tmp_path):
    stream = [
        tcgen.signed("SET_TIME_WARP", 1, factor=10000).frame,
        tcgen.forged(D["SET_TIME_WARP"].code, (10001).to_bytes(2, "big"), 2),
    ]
    got = onboard.run(onboard.flash(tmp_path), [stream[0], tcgen.frame(stream[1])])
    assert [(s, r) for _, _, s, r in got.verifications()] == [
        ("ACCEPTED", "NONE"),
        ("STARTED", "NONE"),
        ("COMPLETED", "NONE"),
        ("FAILED", "OUT_OF_RANGE"),
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"target": "LRF", "kind": "LEAK", "magnitude": 1},
            "INJECT_FAULT: LRF has no fault LEAK (its faults: STUCK, DROPOUT, BIAS, NOISE, "
            "DEGRADED_RANGE, INHIBIT)",
        ),
        (
            {"target": "PROP", "kind": "LEAK", "magnitude": 0},
            "INJECT_FAULT: magnitude=0 is out of range for PROP LEAK (0 < magnitude <= 20 kg/s)",
        ),
        (
            {"target": "LRF", "kind": "DEGRADED_RANGE", "magnitude": 5000},
            "(10 <= magnitude <= 3000 m)",
        ),
    ],
)
def test_the_ground_refuses_a_fault_the_table_lacks_before_anything_is_sent(given, message):
    with pytest.raises(commands.ArgumentError) as info:
        FAULT.raw_values(given)
    assert message in str(info.value)


@pytest.mark.vm
def test_the_firmware_acts_on_exactly_the_dictionarys_faults():
    out = vm.run(
        "import faults, commands\nprint(sorted(faults.EFFECTS))\nprint(sorted(commands.FAULTS))\n"
    ).stdout.decode()
    effects, table = out.splitlines()
    expected = sorted((t << 8) | k for t, k in FAULT.faults)
    assert effects == table == str(expected)


@pytest.mark.vm
@pytest.mark.parametrize(
    ("target", "kind", "magnitude", "reason"),
    [
        ("PROP", "LEAK", 0.5, 0),
        ("PROP", "LEAK", 0.0, 8),  # a leak of nothing is no fault
        ("PROP", "LEAK", 21.0, 8),
        ("LRF", "LEAK", 1.0, 8),
        ("LRF", "INHIBIT", 123.0, 0),  # on or off: the magnitude is ignored
        ("PROP", "LEAK", float("nan"), 8),
    ],
)
def test_the_firmware_checks_magnitudes_against_the_dictionarys_ranges(
    target, kind, magnitude, reason
):
    t = FAULT.arg("target").raw("INJECT_FAULT", target)
    k = FAULT.arg("kind").raw("INJECT_FAULT", kind)
    script = (
        "import faults\n"
        "class Part:\n    pass\n"
        "class Flight:\n    pass\n"
        "f = Flight()\n"
        "for name in ('lrf', 'imu', 'vehicle', 'tanks', 'battery'):\n"
        "    setattr(f, name, Part())\n"
        f"print(faults.inject(f, {t}, {k}, float({str(magnitude)!r})))\n"
    )
    assert int(vm.run(script).stdout) == reason


@pytest.mark.vm
def test_the_firmware_reads_telecommands_where_the_wire_contract_puts_them():
    out = vm.run(
        "import commands as C\n"
        "print(C.TC_KEY_ID_AT, C.TC_COUNTER_AT, C.TC_CODE_AT, C.TC_ARGS_AT, C.TC_MAC_LEN)\n"
    ).stdout.decode()
    key_at, counter_at, code_at, args_at, mac_len = map(int, out.split())
    tc = build(D, "PING", {"token": 0x0A0B0C0D}, key=tcgen.KEY, counter=0x01020304)
    packet = tc.packet
    assert packet[key_at : key_at + 2] == tcgen.KEY.key_id.to_bytes(2, "big")
    assert packet[counter_at : counter_at + 4] == bytes([1, 2, 3, 4])
    assert packet[code_at : code_at + 2] == D["PING"].code.to_bytes(2, "big")
    assert packet[args_at : args_at + 4] == bytes([10, 11, 12, 13])
    assert mac_len == wire.MAC_LEN and len(packet) == args_at + 4 + mac_len + wire.CRC_LEN


@pytest.mark.vm
def test_the_heap_is_the_picos_and_every_vm_run_uses_it():
    dictionary = model.load()
    assert dictionary.heap_bytes == 192 * 1024 and dictionary.heapsize == "192K"
    script = "import packets, gc\nprint(packets.HEAP_BYTES, gc.mem_free() + gc.mem_alloc())"
    generated, heap = map(int, vm.run(script).stdout.split())
    assert generated == dictionary.heap_bytes
    assert 0.95 * dictionary.heap_bytes < heap <= dictionary.heap_bytes  # the VM's own heap
