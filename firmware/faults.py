# Fault injection for test campaigns: what INJECT_FAULT and CLEAR_FAULT do (the commands a
# scenario schedules take the same path). A fault sets one field of a sensor model
# (firmware/sensors.py), of the vehicle itself (firmware/vehicle.py) or of the downlink;
# clearing a target puts every field of that target back to its healthy value. The flight
# software is not told: fault protection (firmware/fdir.py) has to notice.
#
#   target      kind             magnitude                what happens
#   1 LRF       1 STUCK          -                        output frozen at its last value
#               2 DROPOUT        fraction lost (0-1]      no return for that share of shots
#               3 BIAS           m (-5000..5000)          constant range offset
#               4 NOISE          m one sigma (0-5000]     extra range noise
#               5 DEGRADED_RANGE m (10-10000)             a weaker laser: returns strong enough
#                                                          only below this slant range (ispace
#                                                          M2: ~900 m, 2025)
#               8 INHIBIT        -                        the safety plug left in: the laser
#                                                          cannot fire (IM-1, 2024); a plug is
#                                                          hardware, CLEAR_FAULT does not pull it
#   2 IMU       1 STUCK, 2 DROPOUT, 3 BIAS (m/s^2, thrust axis), 4 NOISE (m/s^2)
#               9 SATURATION     full scale, m/s^2 (1-50) the accelerometers clip there
#              10 RESET          s between resets (3-600) a reset cascade (Beresheet, 2019)
#   3 PROP      6 LEAK           kg/s (0-20]              propellant leaks overboard
#               1 STUCK          bar/s (0-10]             pressure regulator stuck open: both
#                                                          tanks climb toward the helium bottle
#              15 VALVE_STUCK    bar/s (0-10]             the oxidiser tank's pressurisation
#                                                          valve stuck open (Peregrine, 2024)
#               3 BIAS           bar (-50..50)            fuel pressure transducer offset
#   4 BATTERY   7 UNDERVOLTAGE   V lost (0-33]            shorted cells
#               6 LEAK           A (0-50]                 extra drain (a short on the bus)
#               3 BIAS           V (-10..10)              voltage sense offset
#   5 ENGINE   11 THRUST         ratio (0.2-2)            main-engine thrust against its command
#                                                          (a loss; or more, Chandrayaan-2, 2019)
#               1 STUCK          throttle (0.3-1)         throttle valve stuck there
#              12 NO_CUTOFF      -                        the engine valve does not close
#                                                          (Luna-25, 2023)
#              13 THRUSTER_OUT   thrusters (1-6)          that many thrusters do not fire (SLIM,
#                                                          2024, lost one of its two engines)
#   6 STAR_TRACKER 14 LOST       -                        no attitude solution
#   7 DOWNLINK  16 BLACKOUT      -                        the downlink goes silent; the vehicle
#                                                          flies on (sequence counts go on)
# A target or kind not in this table, or a magnitude outside its range, is refused with
# REASON_OUT_OF_RANGE and changes nothing.
import packets as P
from micropython import const

TARGET_LRF = const(1)
TARGET_IMU = const(2)
TARGET_PROP = const(3)
TARGET_BATTERY = const(4)
TARGET_ENGINE = const(5)
TARGET_STAR_TRACKER = const(6)
TARGET_DOWNLINK = const(7)

KIND_STUCK = const(1)
KIND_DROPOUT = const(2)
KIND_BIAS = const(3)
KIND_NOISE = const(4)
KIND_DEGRADED_RANGE = const(5)
KIND_LEAK = const(6)
KIND_UNDERVOLTAGE = const(7)
KIND_INHIBIT = const(8)
KIND_SATURATION = const(9)
KIND_RESET = const(10)
KIND_THRUST = const(11)
KIND_NO_CUTOFF = const(12)
KIND_THRUSTER_OUT = const(13)
KIND_LOST = const(14)
KIND_VALVE_STUCK = const(15)
KIND_BLACKOUT = const(16)

# (target, kind): (part of the world, field, low, high, value when magnitude is not used)
# The magnitude must lie in [low, high] and be above 0 when low is 0; where low == high the
# magnitude is not used and the fixed value is set.
CATALOGUE = {
    (TARGET_LRF, KIND_STUCK): ("lrf", "stuck", 0, 0, True),
    (TARGET_LRF, KIND_DROPOUT): ("lrf", "dropout", 0.0, 1.0, None),
    (TARGET_LRF, KIND_BIAS): ("lrf", "bias", -5000.0, 5000.0, None),
    (TARGET_LRF, KIND_NOISE): ("lrf", "noise", 0.0, 5000.0, None),
    (TARGET_LRF, KIND_DEGRADED_RANGE): ("lrf", "max_range", 10.0, 10000.0, None),
    (TARGET_LRF, KIND_INHIBIT): ("lrf", "plugged", 0, 0, True),
    (TARGET_IMU, KIND_STUCK): ("imu", "stuck", 0, 0, True),
    (TARGET_IMU, KIND_DROPOUT): ("imu", "dropout", 0.0, 1.0, None),
    (TARGET_IMU, KIND_BIAS): ("imu", "fault_bias", -50.0, 50.0, None),
    (TARGET_IMU, KIND_NOISE): ("imu", "noise", 0.0, 50.0, None),
    (TARGET_IMU, KIND_SATURATION): ("imu", "full_scale", 1.0, 50.0, None),
    (TARGET_IMU, KIND_RESET): ("imu", "reset_every", 3.0, 600.0, None),
    (TARGET_PROP, KIND_LEAK): ("vehicle", "leak", 0.0, 20.0, None),
    (TARGET_PROP, KIND_STUCK): ("vehicle", "regulator_stuck", 0.0, 10.0, None),
    (TARGET_PROP, KIND_VALVE_STUCK): ("vehicle", "ox_valve_stuck", 0.0, 10.0, None),
    (TARGET_PROP, KIND_BIAS): ("transducers", "fuel_bias", -50.0, 50.0, None),
    (TARGET_BATTERY, KIND_UNDERVOLTAGE): ("vehicle", "battery_dv", 0.0, 33.0, None),
    (TARGET_BATTERY, KIND_LEAK): ("vehicle", "drain", 0.0, 50.0, None),
    (TARGET_BATTERY, KIND_BIAS): ("transducers", "batt_bias", -10.0, 10.0, None),
    (TARGET_ENGINE, KIND_THRUST): ("vehicle", "main_scale", 0.2, 2.0, None),
    (TARGET_ENGINE, KIND_STUCK): ("vehicle", "throttle_stuck", 0.3, 1.0, None),
    (TARGET_ENGINE, KIND_NO_CUTOFF): ("vehicle", "no_cutoff", 0, 0, True),
    (TARGET_ENGINE, KIND_THRUSTER_OUT): ("vehicle", "tdt_failed", 1.0, 6.0, None),
    (TARGET_STAR_TRACKER, KIND_LOST): ("star_tracker", "lost", 0, 0, True),
    (TARGET_DOWNLINK, KIND_BLACKOUT): ("downlink", "blackout", 0, 0, True),
}

# Healthy value of every field a target's faults touch (CLEAR_FAULT restores them). The
# LRF's plug is not among them: it is hardware, out of the ground's reach.
HEALTHY = {
    TARGET_LRF: (("lrf", "stuck", False), ("lrf", "dropout", 0.0), ("lrf", "bias", 0.0),
                 ("lrf", "noise", 0.0), ("lrf", "max_range", None)),
    TARGET_IMU: (("imu", "stuck", False), ("imu", "dropout", 0.0), ("imu", "fault_bias", 0.0),
                 ("imu", "noise", 0.0), ("imu", "full_scale", 0.0), ("imu", "reset_every", 0.0)),
    TARGET_PROP: (("vehicle", "leak", 0.0), ("vehicle", "regulator_stuck", 0.0),
                  ("vehicle", "ox_valve_stuck", 0.0), ("transducers", "fuel_bias", 0.0)),
    TARGET_BATTERY: (("vehicle", "battery_dv", 0.0), ("vehicle", "drain", 0.0),
                     ("transducers", "batt_bias", 0.0)),
    TARGET_ENGINE: (("vehicle", "main_scale", 1.0), ("vehicle", "throttle_stuck", 0.0),
                    ("vehicle", "no_cutoff", False), ("vehicle", "tdt_failed", 0)),
    TARGET_STAR_TRACKER: (("star_tracker", "lost", False),),
    TARGET_DOWNLINK: (("downlink", "blackout", False),),
}


def inject(flight, target, kind, magnitude):
    # Returns 0 when the fault is in place, else the TC_VERIFY reason why not.
    entry = CATALOGUE.get((target, kind))
    if entry is None:
        return P.REASON_OUT_OF_RANGE
    part, field, low, high, fixed = entry
    if low == high:
        value = fixed
    else:
        try:
            value = float(magnitude)
        except (TypeError, ValueError):
            return P.REASON_BAD_ARGUMENTS
        if value < low or value > high or (low == 0.0 and value <= 0.0):
            return P.REASON_OUT_OF_RANGE
    if field == "tdt_failed":
        value = int(value)
    setattr(getattr(flight, part), field, value)
    return 0


def clear(flight, target):
    fields = HEALTHY.get(target)
    if fields is None:
        return P.REASON_OUT_OF_RANGE
    for part, field, value in fields:
        obj = getattr(flight, part)
        if value is None:
            value = obj.design_range     # the LRF's own range
        setattr(obj, field, value)
    return 0
