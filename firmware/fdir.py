# Fault detection, isolation and recovery: one table row per monitor. Each row has a symptom
# (a check of what the flight software can see, never of the simulation's truth), a
# persistence (10 Hz samples the symptom must last before it counts, and must be gone
# before the row re-arms), the EVENT it emits and its response, which depends on whether
# the vehicle is in powered flight. Latched rows are HK.fdir_flags, bit i for row i.
#
#  row                  symptom                                      not powered  powered
#  0 LRF_INHIBITED      built-in test fails or the arm-plug discrete   SAFE         -
#                       says plugged (IM-1, 2024: the safety plug left in)
#  1 LRF_LATE           no valid range yet although the estimated    -            HOLD_DESCENT
#                       slant range is under 70 % of the 3 km design   (until the first valid
#                       (ispace M2, 2025: first fix below ~900 m)       measurement)
#  2 LRF_FAULT          after acquisition: stuck output, gate refusing  -         LRF_UNUSABLE
#                       most measurements, or no return for 2 s once
#                       it had been giving them
#  3 IMU_FAULT          no data, frozen, saturated, resetting, or     SAFE        SWITCH_SOURCE
#                       off the engine model by > 0.3 m/s^2 while the              (engine model)
#                       chamber pressure agrees with the command (two
#                       witnesses against one: it is the IMU)
#  4 LOW_PROPELLANT     gauged propellant under what a landing from   SAFE         LAND_NOW
#                       here needs (guidance.landing_need), in the
#                       approach; in braking, under that plus the burn
#                       to the high gate
#  5 PROP_LEAK          pressure-volume gauging below bookkeeping     SAFE         LAND_NOW
#  6 TANK_OVERPRESSURE  both tanks above 22 bar, or one with the      ISOLATE      ISOLATE
#                       helium bottle emptying into it (Peregrine,    + SAFE       (blow-down)
#                       2024); one high with the helium steady is a
#                       transducer fault (row 14)
#  7 BATTERY_UNDERVOLTAGE  battery under 24 V                         SAFE         SHED_LOADS
#  8 LOOP_OVERRUN       control cycles over their 20 ms budget        SHED_TELEMETRY (both)
#  9 ENGINE_ANOMALY     chamber pressure off the command by > 8 % and  -           RECALIBRATE
#                       the IMU agrees with the pressure (a thrust loss,          _ENGINE
#                       or more than commanded as Chandrayaan-2 had)
# 10 THROTTLE_STUCK     the command moved, the chamber pressure did    -           MAIN_ON_OFF
#                       not
# 11 NO_CUTOFF          chamber pressure 1 s after the valve was       ISOLATE_MAIN (both)
#                       commanded closed (Luna-25, 2023)
# 12 THRUSTER_FAULT     the IMU short of the engine model by a whole   -           RECALIBRATE
#                       number of thrusters while they fire and the               _ENGINE
#                       chamber pressure is right (SLIM, 2024, lost one engine)
# 13 STAR_TRACKER_LOST  no attitude fix for 5 s: the gyro drifts      -            -
# 14 TRANSDUCER_FAULT   one tank pressure off the other by > 3 bar    -            -
#                       with the helium steady: that reading ignored
#
# LRF_UNUSABLE: in BRAKING, while the remaining delta-v still reaches a safe orbit, ABORT to
# orbit (wait there for the ground, as IM-1 did); later, HOLD_DESCENT on inertial navigation.
# SAFE sheds non-essential loads too. HOLD_DESCENT and SWITCH_SOURCE last while their row is
# latched; the others act once. {"fdir": {"disable": ["LRF_LATE", ...]}} turns rows off, to
# reproduce the failures the rows exist for (HK.fdir_disabled shows which).
from array import array
from math import cos

import packets as P
from guidance import HOLD_MARGIN
from micropython import const
from phases import powered

# Rows are the dictionary's FDIR_ROW enumeration (P.FDIR_ROW_*: HK.fdir_flags names the bits
# on the ground), in the order of TABLE and SYMPTOMS.
NAMES = P.FDIR_ROW_NAMES

RESPONSE_LRF_UNUSABLE = const(100)  # resolved at detection time (see above)

_LEAK_KG = const(5.0)       # plus 2 % of what has been burnt (thrust dispersion)
_OVERPRESSURE_BAR = const(22.0)  # the PROP pressure red limit
_UNDERVOLTAGE_V = const(24.0)  # the POWER.battery_voltage red limit
_IMU_RESIDUAL = const(0.3)  # m/s^2
_ENGINE_TOLERANCE = const(0.08)  # of full thrust
_LATE_FRACTION = const(0.7)
_LRF_DESIGN = const(3000.0)  # m, the rangefinder's data-sheet range (firmware/craft.py)

_R = P.RESPONSE_RECALIBRATE_ENGINE
# (event, severity, persistence, response not powered, response powered)
TABLE = (
    (P.EVENT_ID_LRF_INHIBITED, P.SEVERITY_ERROR, 1, P.RESPONSE_SAFE, P.RESPONSE_NONE),
    (P.EVENT_ID_LRF_LATE, P.SEVERITY_ERROR, 30, P.RESPONSE_NONE, P.RESPONSE_HOLD_DESCENT),
    (P.EVENT_ID_LRF_FAULT, P.SEVERITY_ERROR, 10, P.RESPONSE_NONE, RESPONSE_LRF_UNUSABLE),
    (P.EVENT_ID_IMU_FAULT, P.SEVERITY_ERROR, 5, P.RESPONSE_SAFE, P.RESPONSE_SWITCH_SOURCE),
    (P.EVENT_ID_LOW_PROPELLANT, P.SEVERITY_CRITICAL, 10, P.RESPONSE_SAFE, P.RESPONSE_LAND_NOW),
    (P.EVENT_ID_PROP_LEAK, P.SEVERITY_CRITICAL, 20, P.RESPONSE_SAFE, P.RESPONSE_LAND_NOW),
    (P.EVENT_ID_TANK_OVERPRESSURE, P.SEVERITY_CRITICAL, 5, P.RESPONSE_ISOLATE_PRESSURANT,
     P.RESPONSE_ISOLATE_PRESSURANT),
    (P.EVENT_ID_BATTERY_UNDERVOLTAGE, P.SEVERITY_CRITICAL, 20, P.RESPONSE_SAFE,
     P.RESPONSE_SHED_LOADS),
    (P.EVENT_ID_LOOP_OVERRUN, P.SEVERITY_WARNING, 1, P.RESPONSE_SHED_TELEMETRY,
     P.RESPONSE_SHED_TELEMETRY),
    (P.EVENT_ID_ENGINE_ANOMALY, P.SEVERITY_ERROR, 10, P.RESPONSE_NONE, _R),
    (P.EVENT_ID_THROTTLE_STUCK, P.SEVERITY_ERROR, 5, P.RESPONSE_NONE, P.RESPONSE_MAIN_ON_OFF),
    (P.EVENT_ID_NO_CUTOFF, P.SEVERITY_CRITICAL, 10, P.RESPONSE_ISOLATE_MAIN,
     P.RESPONSE_ISOLATE_MAIN),
    (P.EVENT_ID_THRUSTER_FAULT, P.SEVERITY_ERROR, 20, P.RESPONSE_NONE, _R),
    (P.EVENT_ID_STAR_TRACKER_LOST, P.SEVERITY_WARNING, 50, P.RESPONSE_NONE, P.RESPONSE_NONE),
    (P.EVENT_ID_TRANSDUCER_FAULT, P.SEVERITY_WARNING, 20, P.RESPONSE_NONE, P.RESPONSE_NONE),
)


# Symptoms: None when absent, else the value reported as the EVENT's arg1.

def _lrf_inhibited(f):
    if f.phase in (P.PHASE_ARMED, P.PHASE_DESCENT_ORBIT) and not (
            f.bus.lrf_bit and f.bus.lrf_armed):
        return 0 if f.bus.lrf_armed else 1
    return None


def _expected_slant(f):
    # Slant range the LRF should see if the vehicle is as low as navigation's uncertainty
    # allows (1.5 sigma, at most HOLD_MARGIN below the estimate); 0 when it cannot see ground.
    nav = f.nav
    c = nav.pitch
    if c < 0.0:
        c = -c
    h = nav.h - min(1.5 * nav.sigma(), HOLD_MARGIN)
    if c > 1.0 or h <= 0.0:
        return 0.0
    return h / cos(c)


def _lrf_late(f):
    nav = f.nav
    if (not powered(f.phase) or nav.first_valid or nav.ndl_used
            or f.guidance.mode == P.GUIDANCE_MODE_TO_ORBIT):
        return None
    s = _expected_slant(f)
    if 0.0 < s < _LATE_FRACTION * _LRF_DESIGN:
        return int(s)
    return None


def _lrf_fault(f):
    nav = f.nav
    if not powered(f.phase) or not nav.first_valid:
        return None
    if nav.stuck:
        return 1
    if nav.reject_rate > 0.7:
        return 2
    lost = nav.valid_count >= 20 and nav.since_valid > 20
    if lost and 0.0 < _expected_slant(f) < _LATE_FRACTION * _LRF_DESIGN:
        return 3
    return None


def _imu_fault(f):
    nav = f.nav
    bus = f.bus
    if nav.imu_invalid >= 5:
        return 1
    if nav.imu_stuck():
        return 2
    if bus.imu_saturated:
        return 4
    if f.reset_age < 30:
        return 5            # rides through each reset's outage on the engine model
    r = nav.imu_residual
    if (r > _IMU_RESIDUAL or r < -_IMU_RESIDUAL
            or nav.imu_residual_sq > _IMU_RESIDUAL * _IMU_RESIDUAL):
        # The IMU disagrees with the engine model. If the chamber pressure follows the
        # command, the engine is as believed: the IMU is wrong.
        if _engine_off_command(f) is None and _thruster_deficit(f) is None:
            return 3
    return None


def _thruster_deficit(f):
    # Thrusters missing: the IMU short of the engine model by a whole number of thrusters'
    # worth, while they fire and the chamber pressure follows the main engine's command.
    bus = f.bus
    eng = f.engine
    if not bus.tdt_fire and bus.tdt_duty < 0.3:
        return None
    r = f.nav.imu_residual
    if r > -0.15:
        return None
    each = eng.f_tdt_each * eng.feed
    lost = -r * (f.dry + f.prop_gauge) / each
    k = int(lost + 0.5)
    if 1 <= k <= eng.n_tdt and -0.3 < lost - k < 0.3:
        return k
    return None


def _low_propellant(f):
    if not powered(f.phase) or f.guidance.mode == P.GUIDANCE_MODE_TO_ORBIT:
        return None
    need = f.need
    if f.phase == P.PHASE_BRAKING:
        return None         # the braking burn is sized; the need is judged from the gate
    return int(f.prop_gauge * 1000) if f.prop_gauge < need else None


def _prop_leak(f):
    missing = f.book - f.pvt
    if missing > _LEAK_KG + 0.02 * (f.book0 - f.book):
        return int(missing * 1000)
    return None


def _helium_draining(f):
    # The helium bottle losing pressure faster than the propellant drawn explains: gas is
    # going into a tank (about 1 bar/s at full flow while regulating).
    # (regulating, the bottle gives about 0.25 bar/s per kg/s drawn).
    return f.he_rate < -(0.3 + 0.4 * f.engine.flow)


def _tank_overpressure(f):
    bus = f.bus
    fuel = bus.fuel_p
    ox = bus.ox_p
    if fuel > _OVERPRESSURE_BAR and ox > _OVERPRESSURE_BAR:
        return int(fuel * 100)
    if (fuel > _OVERPRESSURE_BAR or ox > _OVERPRESSURE_BAR) and _helium_draining(f):
        return int(max(fuel, ox) * 100)
    return None


def _battery_undervoltage(f):
    v = f.bus.batt_v
    return int(v * 1000) if v < _UNDERVOLTAGE_V else None


def _loop_overrun(f):
    return f.last_overrun_us if f.overrun_score >= 2.5 else None


def _engine_off_command(f):
    # Chamber pressure off the (lagged) command, in thousandths of full thrust, or None.
    eng = f.engine
    if f.bus.main_cmd <= 0.0 or eng.stuck_at > 0.0 or eng.isolated:
        return None
    d = eng.pc_fraction(f.bus) - eng.cmd_lag
    if d > _ENGINE_TOLERANCE or d < -_ENGINE_TOLERANCE:
        return int(d * 1000)
    return None


def _engine_anomaly(f):
    if not powered(f.phase):
        return None
    d = _engine_off_command(f)
    if d is None:
        return None
    # Confirmed by the IMU: it agrees with the thrust the pressure says.
    r = f.nav.imu_residual
    return d if -_IMU_RESIDUAL < r < _IMU_RESIDUAL else None


def _throttle_stuck(f):
    if not powered(f.phase):
        return None
    w = f.fdir.window
    if w[1] - w[0] > 0.2 and w[3] - w[2] < 0.04:
        return int(w[2] * 1000)
    return None


def _no_cutoff(f):
    if f.bus.main_cmd > 0.0 or f.engine.isolated:
        return None
    return int(f.bus.pc * 1000) if f.bus.pc > 1.0 else None


def _thruster_fault(f):
    return _thruster_deficit(f) if powered(f.phase) else None


def _star_tracker_lost(f):
    return f.att.st_age if f.att.st_age > 0 and f.phase != P.PHASE_IDLE else None


def _transducer_fault(f):
    bus = f.bus
    if bus.latch_close:
        return None         # isolated tanks: the helium cannot tell
    d = bus.ox_p - bus.fuel_p
    if (d > 3.0 or d < -3.0) and not _helium_draining(f):
        return int(d * 100)
    return None


SYMPTOMS = (_lrf_inhibited, _lrf_late, _lrf_fault, _imu_fault, _low_propellant, _prop_leak,
            _tank_overpressure, _battery_undervoltage, _loop_overrun, _engine_anomaly,
            _throttle_stuck, _no_cutoff, _thruster_fault, _star_tracker_lost,
            _transducer_fault)


class Fdir:
    def __init__(self, cfg, events):
        self.events = events
        self.count = array("B", bytes(len(TABLE)))
        self.latched = 0
        self.disabled = 0
        for name in cfg.get("disable", ()):
            if name in NAMES:
                self.disabled |= 1 << NAMES.index(name)
        # 2 s window of the main-engine command and chamber pressure (min, max each), for
        # THROTTLE_STUCK; the last complete one.
        self.window = array("f", [0.0, 0.0, 0.0, 0.0])
        self._w = array("f", [2.0, -1.0, 2.0, -1.0])
        self._wn = 0

    def recalibrate(self, f):
        # RECALIBRATE_ENGINE: believe what the engines deliver, measured, from now on.
        eng = f.engine
        bus = f.bus
        if _engine_off_command(f) is not None and eng.cmd_lag > 0.1:
            eng.main_scale *= eng.pc_fraction(bus) / eng.cmd_lag
        k = _thruster_deficit(f)
        if k is not None:
            eng.tdt_scale = (eng.n_tdt * eng.tdt_scale - k) / eng.n_tdt
        f.nav.imu_residual = 0.0
        f.nav.imu_residual_sq = 0.0

    def _watch(self, f):
        w = self._w
        bus = f.bus
        if bus.main_cmd <= 0.0:
            self._wn = 0
            w[0] = 2.0
            w[1] = -1.0
            w[2] = 2.0
            w[3] = -1.0
            self.window[1] = self.window[0] = 0.0
            return
        u = bus.main_cmd
        pc = f.engine.pc_fraction(bus)
        w[0] = min(w[0], u)
        w[1] = max(w[1], u)
        w[2] = min(w[2], pc)
        w[3] = max(w[3], pc)
        self._wn += 1
        if self._wn >= 20:
            for i in range(4):
                self.window[i] = w[i]
            self._wn = 0
            w[0] = 2.0
            w[1] = -1.0
            w[2] = 2.0
            w[3] = -1.0

    def is_latched(self, row):
        return self.latched & (1 << row) != 0

    def check(self, f):
        # One 10 Hz pass over the table; f is the flight (firmware/flight.py).
        self._watch(f)
        count = self.count
        for i in range(len(TABLE)):
            bit = 1 << i
            if self.disabled & bit:
                continue
            value = SYMPTOMS[i](f)
            row = TABLE[i]
            if value is not None:
                if count[i] < row[2]:
                    count[i] += 1
                if count[i] >= row[2] and not self.latched & bit:
                    self.latched |= bit
                    response = f.resolve(i, row[4] if powered(f.phase) else row[3])
                    self.events(row[0], row[1], value, f.phase, i, response)
                    f.apply(i, response)
            elif count[i]:
                count[i] -= 1
                if count[i] == 0:
                    self.latched &= ~bit
