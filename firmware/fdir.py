# Fault detection, isolation and recovery: one table row per monitor. Each row has a symptom
# (a check of what the flight software can see, never of the simulation's truth), a
# persistence (10 Hz samples the symptom must last before it counts, and must be gone
# before the row re-arms), the EVENT it emits and its response, which depends on whether
# the vehicle is in powered flight. Latched rows are HK.fdir_flags, bit i for row i.
#
#  row                  symptom                                      not powered  powered
#  0 LRF_INHIBITED      built-in test: the laser does not fire       SAFE         -
#                       (IM-1, 2024: the safety plug left in)
#  1 LRF_LATE           no valid range yet although the estimated    -            HOLD_DESCENT
#                       slant range is under 70 % of the 3 km design   (until the first valid
#                       (ispace M2, 2025: first fix below ~900 m)       measurement)
#  2 LRF_FAULT          after acquisition: stuck output, gate refusing  -         LRF_UNUSABLE
#                       most measurements, or no return for 2 s once
#                       it had been giving them
#  3 IMU_FAULT          no data, frozen output, or disagreeing with   SAFE        SWITCH_SOURCE
#                       the engine model by > 0.3 m/s^2                            (engine model)
#  4 LOW_PROPELLANT     gauged propellant under 15 kg                 SAFE         LAND_NOW
#  5 PROP_LEAK          pressure-volume gauging below bookkeeping     SAFE         LAND_NOW
#  6 TANK_OVERPRESSURE  fuel AND oxidiser above 22 bar (a single      ISOLATE      ISOLATE
#                       transducer high is a transducer fault)        + SAFE       (blow-down)
#  7 BATTERY_UNDERVOLTAGE  battery under 24 V                         SAFE         SHED_LOADS
#  8 LOOP_OVERRUN       control cycles over their 20 ms budget        SHED_TELEMETRY (both)
#
# LRF_UNUSABLE: in BRAKING, while the remaining delta-v still reaches a safe orbit, ABORT to
# orbit (wait there for the ground, as IM-1 did); later, HOLD_DESCENT on inertial navigation.
# SAFE sheds non-essential loads too. HOLD_DESCENT and SWITCH_SOURCE last while their row is
# latched; the others act once. {"fdir": {"disable": ["LRF_LATE", ...]}} turns rows off, to
# reproduce the failures the rows exist for.
from array import array
from math import cos

import packets as P
from micropython import const
from phases import powered
from sensors import LRF_MAX_INCIDENCE, LRF_MAX_RANGE

# Rows: the dictionary's FDIR_ROW enumeration (HK.fdir_flags names the bits on the ground).
LRF_INHIBITED = P.FDIR_ROW_LRF_INHIBITED
LRF_LATE = P.FDIR_ROW_LRF_LATE
LRF_FAULT = P.FDIR_ROW_LRF_FAULT
IMU_FAULT = P.FDIR_ROW_IMU_FAULT
LOW_PROPELLANT = P.FDIR_ROW_LOW_PROPELLANT
PROP_LEAK = P.FDIR_ROW_PROP_LEAK
TANK_OVERPRESSURE = P.FDIR_ROW_TANK_OVERPRESSURE
BATTERY_UNDERVOLTAGE = P.FDIR_ROW_BATTERY_UNDERVOLTAGE
LOOP_OVERRUN = P.FDIR_ROW_LOOP_OVERRUN

NAMES = P.FDIR_ROW_NAMES

RESPONSE_LRF_UNUSABLE = const(100)   # resolved at detection time (see above)

LOW_PROP_KG = 15.0          # the PROP.propellant_mass red limit
LEAK_KG = 5.0               # plus 2 % of what has been burnt (thrust dispersion)
OVERPRESSURE_BAR = 22.0     # the PROP pressure red limit
UNDERVOLTAGE_V = 24.0       # the POWER.battery_voltage red limit
IMU_RESIDUAL = 0.3          # m/s^2
LATE_FRACTION = 0.7

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
)


# Symptoms: None when absent, else the value reported as the EVENT's arg1.

def _lrf_inhibited(f):
    if f.phase in (P.PHASE_ARMED, P.PHASE_DESCENT_ORBIT) and not f.lrf_bit_ok:
        return 0
    return None


def _expected_slant(f):
    # Slant range the LRF should see if navigation is right; 0 when it cannot see ground.
    nav = f.nav
    c = nav.pitch
    if c < 0.0:
        c = -c
    if c > LRF_MAX_INCIDENCE - 0.2 or nav.h <= 0.0:
        return 0.0
    return nav.h / cos(c)


def _lrf_late(f):
    if not powered(f.phase) or f.nav.first_valid or f.guidance.mode == P.GUIDANCE_MODE_TO_ORBIT:
        return None
    s = _expected_slant(f)
    if 0.0 < s < LATE_FRACTION * LRF_MAX_RANGE:
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
    if lost and 0.0 < _expected_slant(f) < LATE_FRACTION * LRF_MAX_RANGE:
        return 3
    return None


def _imu_fault(f):
    nav = f.nav
    if nav.imu_invalid >= 5:
        return 1
    if nav.imu_stuck():
        return 2
    r = nav.imu_residual
    if r > IMU_RESIDUAL or r < -IMU_RESIDUAL or nav.imu_residual_sq > IMU_RESIDUAL * IMU_RESIDUAL:
        return 3
    return None


def _low_propellant(f):
    return int(f.prop_gauge * 1000) if f.prop_gauge < LOW_PROP_KG else None


def _prop_leak(f):
    missing = f.book - f.pvt
    if missing > LEAK_KG + 0.02 * (f.book0 - f.book):
        return int(missing * 1000)
    return None


def _tank_overpressure(f):
    t = f.tanks
    if t.fuel > OVERPRESSURE_BAR and t.ox > OVERPRESSURE_BAR:
        return int(t.fuel * 100)
    return None


def _battery_undervoltage(f):
    v = f.battery.voltage
    return int(v * 1000) if v < UNDERVOLTAGE_V else None


def _loop_overrun(f):
    return f.last_overrun_us if f.overrun_score >= 2.5 else None


SYMPTOMS = (_lrf_inhibited, _lrf_late, _lrf_fault, _imu_fault, _low_propellant, _prop_leak,
            _tank_overpressure, _battery_undervoltage, _loop_overrun)


class Fdir:
    def __init__(self, cfg, events):
        self.events = events
        self.count = array("B", bytes(len(TABLE)))
        self.latched = 0
        self.disabled = 0
        for name in cfg.get("disable", ()):
            if name in NAMES:
                self.disabled |= 1 << NAMES.index(name)

    def is_latched(self, row):
        return self.latched & (1 << row) != 0

    def check(self, f):
        # One 10 Hz pass over the table; f is the flight (firmware/flight.py).
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
