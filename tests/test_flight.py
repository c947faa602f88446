"""The flight model as a user sees it in telemetry.

Each scenario boots the firmware's own main.py in the real MicroPython VM with a Pico's heap
(192 KB), time warp at its maximum, and stops two vehicle seconds after touchdown; the
ground's TelemetryDecoder decodes what it sent. Assertions are on decoded values and events:
what an operator would see on the console.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest

from ground.decoder import Packet, TelemetryDecoder
from hil import vm
from sil import scenarios

pytestmark = [pytest.mark.vm]

# Touchdown design limits of a recent lander (Chandrayaan-3 Vikram, ISRO, Aug 2023).
VERTICAL_LIMIT = 2.0
HORIZONTAL_LIMIT = 0.5


@dataclass
class Flight:
    """A decoded flight: packets in order, and the questions the tests ask of them."""

    data: bytes
    packets: list[Packet]
    stats: Any

    def of(self, name: str) -> list[Packet]:
        return [p for p in self.packets if p.name == name]

    def events(self, event_id: str | None = None) -> list[tuple[float, dict[str, Any]]]:
        return [
            (p.time, p.values)
            for p in self.of("EVENT")
            if event_id is None or p.values["event_id"] == event_id
        ]

    def first(self, event_id: str) -> tuple[float, dict[str, Any]]:
        found = self.events(event_id)
        assert found, f"no {event_id} event; events: {[v['event_id'] for _, v in self.events()]}"
        return found[0]

    def phases(self) -> list[str]:
        return [scenarios.PHASES[v["arg2"]] for _, v in self.events("PHASE_CHANGE")]

    def touchdown(self) -> dict[str, Any]:
        summary = scenarios.summary(self.packets)
        assert summary["touchdown"], f"no touchdown; ended {summary['phase']}"
        return summary["touchdown"]  # type: ignore[no-any-return]

    def final_phase(self) -> str:
        return str(self.of("HK")[-1].values["phase"])

    def values(self, name: str, field: str, start: float = 0.0, end: float = 1e9) -> list[Any]:
        return [p.values[field] for p in self.of(name) if start <= p.time <= end]


def _decode(data: bytes) -> Flight:
    decoder = TelemetryDecoder()
    packets = decoder.decode_all(data)
    assert decoder.stats.bad_frames == 0 and decoder.stats.gaps == 0
    return Flight(data, packets, decoder.stats)


@functools.cache
def flown(name: str, seed: int = 1) -> Flight:
    return _decode(scenarios.fly(scenarios.scenario_config(name, seed=seed)))


def _landed_within_limits(f: Flight) -> dict[str, Any]:
    td = f.touchdown()
    assert f.final_phase() == "LANDED"
    assert abs(td["vertical"]) < VERTICAL_LIMIT, td
    assert abs(td["horizontal"]) < HORIZONTAL_LIMIT, td
    assert td["propellant"] > 0.0, td
    return td


# --- Nominal -------------------------------------------------------------------------------


def test_nominal_descent_goes_through_every_phase_and_lands_within_the_limits():
    f = flown("nominal")
    assert f.phases() == [
        "ARMED",
        "DESCENT_ORBIT",
        "BRAKING",
        "APPROACH",
        "TERMINAL",
        "LANDED",
    ]
    td = _landed_within_limits(f)
    assert f.first("TOUCHDOWN")[1]["severity"] == "INFO"
    # A powered descent of the length real ones take (Blue Ghost: ~9 min braking + approach).
    pdi = next(t for t, v in f.events("PHASE_CHANGE") if scenarios.PHASES[v["arg2"]] == "BRAKING")
    assert 5 * 60 < td["time"] - pdi < 15 * 60
    # From ~1.7 km/s in a 15 km orbit.
    first_truth = f.of("TRUTH")[0].values
    assert 14000 < first_truth["altitude"] < 16000
    assert 1650 < first_truth["vel_horizontal"] < 1720
    # Fault protection stayed quiet.
    assert set(f.values("HK", "fdir_flags")) == {()}
    assert not [v for _, v in f.events() if v["response"] != "NONE"]


def test_navigation_tracks_the_truth_once_the_rangefinder_is_in_range():
    f = flown("nominal")
    nav = {round(p.time, 1): p.values for p in f.of("NAV")}
    errors = []
    for p in f.of("TRUTH"):
        n = nav.get(round(p.time, 1))
        if n and n["nav_mode"] == "RANGE_AIDED" and p.values["altitude"] > 1.0:
            errors.append(abs(n["altitude"] - p.values["altitude"]))
    assert len(errors) > 50
    assert max(errors[len(errors) // 2 :]) < 10.0  # the last half of the aided flight
    # The rangefinder measures slant range and only within its 3 km design range.
    ranges = [v["lrf_range"] for v in (p.values for p in f.of("NAV")) if v["lrf_valid"] == "VALID"]
    assert ranges and max(ranges) <= 3000.0


# --- The three lessons ----------------------------------------------------------------------


def test_crater_rim_jump_is_rejected_then_readmitted_and_the_vehicle_lands():
    f = flown("crater_rim")
    heights = f.values("TRUTH", "terrain")
    rise = max(b - a for a, b in zip(heights, heights[3:], strict=False))
    assert rise > 500  # a sudden rise: over 500 m within 1.5 s of flight
    rejected = f.first("LRF_REJECTED")[0]
    readmitted = f.first("LRF_READMITTED")
    assert readmitted[0] > rejected
    assert abs(readmitted[1]["arg1"]) > 300  # the jump the LRF saw, in metres
    assert f.values("NAV", "nav_mode", start=readmitted[0] + 1.0)[0] == "RANGE_AIDED"
    _landed_within_limits(f)
    assert f.values("TRUTH", "terrain")[-1] > 500  # on the rim's far side


def test_crater_rim_with_m1_rejection_logic_reproduces_the_loss():
    f = flown("crater_rim_m1")
    rejected = f.first("LRF_REJECTED")[0]
    assert not f.events("LRF_READMITTED")
    assert set(f.values("NAV", "nav_mode", start=rejected + 1.0)) <= {"RANGE_REJECTED"}
    assert f.final_phase() == "CRASHED"
    assert f.first("TOUCHDOWN")[1]["severity"] == "CRITICAL"


def test_late_rangefinder_is_detected_and_the_descent_held_until_its_first_range():
    f = flown("late_lrf")
    braking = [t for t, v in f.events("PHASE_CHANGE") if scenarios.PHASES[v["arg2"]] == "BRAKING"]
    late_t, late = f.first("LRF_LATE")
    assert late_t > braking[0]
    assert late["response"] == "HOLD_DESCENT"
    assert late["arg1"] < 0.7 * 3000  # expected slant range when the LRF was declared late
    first_valid = next(p for p in f.of("NAV") if p.values["lrf_valid"] == "VALID")
    assert first_valid.values["lrf_range"] < 910.0  # 900 m, plus the range noise
    held = [
        p.values
        for p in f.of("NAV")
        if late_t + 10.0 <= p.time <= first_valid.time and p.values["lrf_valid"] == "INVALID"
    ]
    assert held and {v["guidance_mode"] for v in held} == {"HOLD_DESCENT"}
    assert min(v["vel_vertical"] for v in held) > -11.0  # descent held at 10 m/s
    _landed_within_limits(f)


def test_inhibited_rangefinder_is_noticed_before_powered_descent_and_the_vehicle_goes_safe():
    f = flown("lrf_inhibited")
    t, inhibited = f.first("LRF_INHIBITED")
    assert inhibited["response"] == "SAFE"
    assert f.phases() == ["ARMED", "DESCENT_ORBIT", "SAFE"]
    assert f.final_phase() == "SAFE"
    assert set(f.values("HK", "mode", start=t + 1)) == {"SAFE"}
    assert set(f.values("PROP", "engine")) == {"OFF"}  # no PDI burn
    assert not f.events("LRF_BIT_PASSED")


def test_inhibited_rangefinder_fixed_from_the_ground_then_lands():
    # IM-1's way out, taken before descent: clear the inhibit, re-arm, descend.
    f = flown("lrf_inhibited_fixed")
    assert f.phases()[:3] == ["ARMED", "DESCENT_ORBIT", "SAFE"]
    cleared = f.first("FAULT_CLEARED")[0]
    assert f.events("LRF_BIT_PASSED") and f.first("LRF_BIT_PASSED")[0] > cleared
    assert f.phases()[3:] == ["ARMED", "DESCENT_ORBIT", "BRAKING", "APPROACH", "TERMINAL", "LANDED"]
    _landed_within_limits(f)


# --- Fault protection -----------------------------------------------------------------------


def test_tank_leak_before_pdi_is_detected_and_the_vehicle_stays_in_orbit_safe():
    f = flown("tank_leak")
    injected = f.first("FAULT_INJECTED")[0]
    t, leak = f.first("PROP_LEAK")
    assert injected < t < injected + 30.0
    assert leak["response"] == "SAFE"
    assert "BRAKING" not in f.phases() and f.final_phase() == "SAFE"
    gauged = f.values("PROP", "propellant_mass")
    assert gauged[-1] < gauged[0] - 20.0  # the gauge sees the propellant go
    assert set(f.values("PROP", "engine")) == {"OFF"}


def test_tank_leak_in_powered_descent_makes_the_vehicle_land_now():
    f = flown("tank_leak_descent")
    leak = f.first("PROP_LEAK")[1]
    assert leak["response"] == "LAND_NOW"
    assert "LAND_NOW" in f.values("NAV", "guidance_mode")
    td = _landed_within_limits(f)
    assert td["propellant"] < flown("nominal").touchdown()["propellant"]


def test_undervoltage_before_pdi_sheds_loads_and_goes_safe():
    f = flown("undervoltage")
    t, low = f.first("BATTERY_UNDERVOLTAGE")
    assert low["response"] == "SAFE"
    assert low["arg1"] < 24000  # millivolts
    assert f.final_phase() == "SAFE" and "BRAKING" not in f.phases()
    assert set(f.values("POWER", "loads", start=t + 1)) == {"SHED"}


def test_undervoltage_in_powered_descent_sheds_loads_and_the_landing_goes_on():
    f = flown("undervoltage_descent")
    t, low = f.first("BATTERY_UNDERVOLTAGE")
    assert low["response"] == "SHED_LOADS"
    before = f.values("POWER", "battery_current", start=t - 5, end=t)
    after = f.values("POWER", "battery_current", start=t + 1, end=t + 6)
    assert max(after) < min(before) - 2.0  # 3 A of payload and heaters off
    _landed_within_limits(f)


def test_tank_overpressure_closes_the_pressurant_latch_and_pressure_falls_back():
    f = flown("overpressure")
    t, over = f.first("TANK_OVERPRESSURE")
    assert over["response"] == "ISOLATE_PRESSURANT"
    assert set(f.values("PROP", "pressurant_latch", start=t + 1)) == {"CLOSED"}
    after = f.values("PROP", "fuel_pressure", start=t + 1)
    assert max(after) < 23.0  # the rise stopped at isolation
    assert after[-1] < 20.0  # blow-down as the engine draws propellant
    _landed_within_limits(f)


def test_imu_dropout_switches_navigation_to_the_engine_model():
    f = flown("imu_dropout")
    t, fault = f.first("IMU_FAULT")
    assert fault["response"] == "SWITCH_SOURCE"
    assert set(f.values("NAV", "accel_source", start=t + 1, end=f.touchdown()["time"])) == {
        "ENGINE_MODEL"
    }
    _landed_within_limits(f)


def test_stuck_rangefinder_is_excluded_and_the_descent_held():
    f = flown("lrf_stuck")
    fault = f.first("LRF_FAULT")[1]
    assert fault["response"] == "HOLD_DESCENT"
    _landed_within_limits(f)


def test_loop_overrun_sheds_telemetry():
    f = flown("loop_overrun")
    t, overrun = f.first("LOOP_OVERRUN")
    assert overrun["response"] == "SHED_TELEMETRY"
    apids = {p.name: p.apid for p in scenarios.model.load()}
    assert [v["arg1"] for _, v in f.events("TM_RATE_CHANGED")] == [apids["NAV"], apids["TRUTH"]]
    nav_times = [p.time for p in f.of("NAV") if p.time > t + 1]
    assert len(nav_times) > 10
    gaps = {round(b - a, 2) for a, b in zip(nav_times, nav_times[1:], strict=False)}
    assert gaps == {0.5}  # NAV at 2 Hz instead of 10
    assert f.values("HK", "loop_overruns")[-1] > 0


def test_abort_in_braking_burns_back_to_a_safe_orbit():
    f = flown("abort_to_orbit")
    assert f.first("ABORT")[1]["severity"] == "CRITICAL"
    assert "TO_ORBIT" in f.values("NAV", "guidance_mode")
    assert f.phases()[-2:] == ["ABORT", "SAFE"]
    end = f.of("TRUTH")[-1].values
    assert end["altitude"] > 12000 and end["vel_horizontal"] > 1600


def test_abort_in_the_approach_hovers_then_lands():
    f = flown("abort_hover")
    assert "HOVER" in f.values("NAV", "guidance_mode")
    assert f.phases()[-3:] == ["ABORT", "TERMINAL", "LANDED"]
    _landed_within_limits(f)


# --- Time and determinism -------------------------------------------------------------------


def test_the_same_seed_gives_byte_identical_telemetry_and_another_seed_does_not():
    config = scenarios.scenario_config("crater_rim", seed=5)
    first = scenarios.fly(config)
    assert scenarios.fly(config) == first
    other = scenarios.fly(scenarios.scenario_config("crater_rim", seed=6))
    assert other != first
    assert _decode(first).touchdown() != _decode(other).touchdown()


def test_time_warp_changes_the_pace_but_not_the_telemetry():
    def run(warp: int) -> list[tuple[str, tuple[Any, ...]]]:
        config = scenarios.scenario_config("nominal", seed=3, time_warp=warp)
        config["halt_s"] = 15
        f = _decode(scenarios.fly(config))
        # BOOT reports the warp it booted with; everything else must be the same.
        return [(p.name, p.raw) for p in f.packets if p.values.get("event_id") != "BOOT"]

    slow = run(40)
    assert slow and run(10000) == slow


COMMANDS = r"""
import hal, packets as P
from app import App
hal.configure({})
app = App({"seed": 2})
app.start()
f = app.flight
out = []
out.append(("start_descent from IDLE", f.start_descent()))
out.append(("abort in IDLE", f.abort()))
out.append(("arm", f.arm()))
out.append(("arm again", f.arm()))
out.append(("inject to target 9", f.inject_fault(9, 1, 0)))
out.append(("inject INHIBIT on the IMU", f.inject_fault(2, 8, 0)))
out.append(("inject LRF degraded to 5 km", f.inject_fault(1, 5, 5000)))
out.append(("inject LRF degraded to 900 m", f.inject_fault(1, 5, 900)))
out.append(("clear LRF", f.clear_fault(1)))
out.append(("clear target 0", f.clear_fault(0)))
out.append(("safe", f.safe()))
out.append(("arm from SAFE", f.arm()))
out.append(("warp 0", app.set_time_warp(0)))
out.append(("warp 20", app.set_time_warp(20)))
out.append(("warp 1e6", app.set_time_warp(1e6)))
out.append(("warp x", app.set_time_warp("x")))
for name, code in out:
    sys.stderr.write("%s=%d\n" % (name, code))
"""


def test_commands_answer_with_the_reason_codes_of_tc_verify():
    result = vm.run(COMMANDS)
    codes = dict(line.split("=") for line in result.stderr.decode().splitlines() if "=" in line)
    reasons = _reasons()
    assert {k: reasons[int(v)] for k, v in codes.items()} == {
        "start_descent from IDLE": "NOT_ALLOWED",
        "abort in IDLE": "NOT_ALLOWED",
        "arm": "NONE",
        "arm again": "NOT_ALLOWED",
        "inject to target 9": "OUT_OF_RANGE",
        "inject INHIBIT on the IMU": "OUT_OF_RANGE",
        "inject LRF degraded to 5 km": "OUT_OF_RANGE",
        "inject LRF degraded to 900 m": "NONE",
        "clear LRF": "NONE",
        "clear target 0": "OUT_OF_RANGE",
        "safe": "NONE",
        "arm from SAFE": "NONE",
        "warp 0": "OUT_OF_RANGE",
        "warp 20": "NONE",
        "warp 1e6": "OUT_OF_RANGE",
        "warp x": "BAD_ARGUMENTS",
    }
    f = _decode(result.stdout)
    injected = f.events("FAULT_INJECTED")
    assert [(v["arg1"], v["arg2"], v["arg3"]) for _, v in injected] == [(1, 5, 900000)]
    assert [v["arg1"] for _, v in f.events("FAULT_CLEARED")] == [1]
    assert f.phases() == ["ARMED", "SAFE", "ARMED"]


def _reasons() -> dict[int, str]:
    from schemas import model

    return dict(model.load()["TC_VERIFY"].field("reason").states)
