# Fault injection for test campaigns: what INJECT_FAULT and CLEAR_FAULT do, and the
# config.json "faults" schedule uses the same path. A fault sets one field of a sensor model
# (firmware/sensors.py) or of the vehicle itself (firmware/vehicle.py); clearing a target
# puts every field of that target back to its healthy value. The flight software is not
# told: fault protection (firmware/fdir.py) has to notice.
#
#   target      kind             magnitude                what happens
#   1 LRF       1 STUCK          -                        output frozen at its last value
#               2 DROPOUT        fraction lost (0-1]      no return for that share of shots
#               3 BIAS           m (-5000..5000)          constant range offset
#               4 NOISE          m one sigma (0-5000]     extra range noise
#               5 DEGRADED_RANGE m (10-3000)              first returns only below this slant
#                                                          range (ispace M2: ~900 m, 2025)
#               8 INHIBIT        -                        laser does not fire (IM-1's unset
#                                                          safety plug, 2024)
#   2 IMU       1 STUCK, 2 DROPOUT, 3 BIAS (m/s^2, thrust axis), 4 NOISE (m/s^2)
#   3 PROP      6 LEAK           kg/s (0-20]              propellant leaks overboard
#               1 STUCK          bar/s (0-10]             pressure regulator stuck open: the
#                                                          tanks climb toward the helium bottle
#               3 BIAS           bar (-50..50)            fuel pressure transducer offset
#   4 BATTERY   7 UNDERVOLTAGE   V lost (0-33]            shorted cells
#               6 LEAK           A (0-50]                 extra drain (a short on the bus)
#               3 BIAS           V (-10..10)              voltage sense offset
# A target or kind not in this table, or a magnitude outside its range, is refused with
# REASON_OUT_OF_RANGE and changes nothing.
import packets as P
from micropython import const
from sensors import LRF_MAX_RANGE

TARGET_LRF = const(1)
TARGET_IMU = const(2)
TARGET_PROP = const(3)
TARGET_BATTERY = const(4)

KIND_STUCK = const(1)
KIND_DROPOUT = const(2)
KIND_BIAS = const(3)
KIND_NOISE = const(4)
KIND_DEGRADED_RANGE = const(5)
KIND_LEAK = const(6)
KIND_UNDERVOLTAGE = const(7)
KIND_INHIBIT = const(8)

# (target, kind): (part of the flight, field, low, high, value when magnitude is not used)
# The magnitude must lie in [low, high] and be above 0 when low is 0; where low == high the
# magnitude is not used and the fixed value is set.
CATALOGUE = {
    (TARGET_LRF, KIND_STUCK): ("lrf", "stuck", 0, 0, True),
    (TARGET_LRF, KIND_DROPOUT): ("lrf", "dropout", 0.0, 1.0, None),
    (TARGET_LRF, KIND_BIAS): ("lrf", "bias", -5000.0, 5000.0, None),
    (TARGET_LRF, KIND_NOISE): ("lrf", "noise", 0.0, 5000.0, None),
    (TARGET_LRF, KIND_DEGRADED_RANGE): ("lrf", "max_range", 10.0, 3000.0, None),
    (TARGET_LRF, KIND_INHIBIT): ("lrf", "inhibited", 0, 0, True),
    (TARGET_IMU, KIND_STUCK): ("imu", "stuck", 0, 0, True),
    (TARGET_IMU, KIND_DROPOUT): ("imu", "dropout", 0.0, 1.0, None),
    (TARGET_IMU, KIND_BIAS): ("imu", "fault_bias", -50.0, 50.0, None),
    (TARGET_IMU, KIND_NOISE): ("imu", "noise", 0.0, 50.0, None),
    (TARGET_PROP, KIND_LEAK): ("vehicle", "leak", 0.0, 20.0, None),
    (TARGET_PROP, KIND_STUCK): ("vehicle", "regulator_stuck", 0.0, 10.0, None),
    (TARGET_PROP, KIND_BIAS): ("tanks", "bias", -50.0, 50.0, None),
    (TARGET_BATTERY, KIND_UNDERVOLTAGE): ("vehicle", "battery_dv", 0.0, 33.0, None),
    (TARGET_BATTERY, KIND_LEAK): ("vehicle", "drain", 0.0, 50.0, None),
    (TARGET_BATTERY, KIND_BIAS): ("battery", "bias", -10.0, 10.0, None),
}

# Healthy value of every field a target's faults touch (CLEAR_FAULT restores them).
HEALTHY = {
    TARGET_LRF: (("lrf", "stuck", False), ("lrf", "dropout", 0.0), ("lrf", "bias", 0.0),
                 ("lrf", "noise", 0.0), ("lrf", "max_range", LRF_MAX_RANGE),
                 ("lrf", "inhibited", False)),
    TARGET_IMU: (("imu", "stuck", False), ("imu", "dropout", 0.0), ("imu", "fault_bias", 0.0),
                 ("imu", "noise", 0.0)),
    TARGET_PROP: (("vehicle", "leak", 0.0), ("vehicle", "regulator_stuck", 0.0),
                  ("tanks", "bias", 0.0)),
    TARGET_BATTERY: (("vehicle", "battery_dv", 0.0), ("vehicle", "drain", 0.0),
                     ("battery", "bias", 0.0)),
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
    setattr(getattr(flight, part), field, value)
    return 0


def clear(flight, target):
    fields = HEALTHY.get(target)
    if fields is None:
        return P.REASON_OUT_OF_RANGE
    for part, field, value in fields:
        setattr(getattr(flight, part), field, value)
    return 0
