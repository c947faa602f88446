# Fault injection for test campaigns: what INJECT_FAULT and CLEAR_FAULT do (the commands a
# scenario schedules take the same path). A fault sets one field of a sensor model
# (firmware/sensors.py), of the vehicle itself (firmware/vehicle.py) or of the downlink;
# clearing a target puts every field of that target back to its healthy value. The flight
# software is not told: fault protection (firmware/fdir.py) has to notice.
#
# Which (target, kind) pairs exist and the range of each magnitude are the dictionary's
# (schemas/commands.toml, [[commands.INJECT_FAULT.faults]], generated as commands.FAULTS);
# this module says only what each one acts on. A pair not in the table, or a magnitude
# outside its range, is refused with REASON_OUT_OF_RANGE and changes nothing. The
# rangefinder's safety plug (LRF INHIBIT) is hardware: CLEAR_FAULT does not pull it.
import commands as C
import packets as P

TARGET_LRF = P.FAULT_TARGET_LRF
TARGET_IMU = P.FAULT_TARGET_IMU
TARGET_PROP = P.FAULT_TARGET_PROP
TARGET_BATTERY = P.FAULT_TARGET_BATTERY
TARGET_ENGINE = P.FAULT_TARGET_ENGINE
TARGET_STAR_TRACKER = P.FAULT_TARGET_STAR_TRACKER
TARGET_DOWNLINK = P.FAULT_TARGET_DOWNLINK


def _key(target, kind):
    return (target << 8) | kind


# (target << 8 | kind): (part of the world, field, value set when the fault has no
# magnitude, else None: the magnitude is the value)
EFFECTS = {
    _key(TARGET_LRF, P.FAULT_KIND_STUCK): ("lrf", "stuck", True),
    _key(TARGET_LRF, P.FAULT_KIND_DROPOUT): ("lrf", "dropout", None),
    _key(TARGET_LRF, P.FAULT_KIND_BIAS): ("lrf", "bias", None),
    _key(TARGET_LRF, P.FAULT_KIND_NOISE): ("lrf", "noise", None),
    _key(TARGET_LRF, P.FAULT_KIND_DEGRADED_RANGE): ("lrf", "max_range", None),
    _key(TARGET_LRF, P.FAULT_KIND_INHIBIT): ("lrf", "plugged", True),
    _key(TARGET_IMU, P.FAULT_KIND_STUCK): ("imu", "stuck", True),
    _key(TARGET_IMU, P.FAULT_KIND_DROPOUT): ("imu", "dropout", None),
    _key(TARGET_IMU, P.FAULT_KIND_BIAS): ("imu", "fault_bias", None),
    _key(TARGET_IMU, P.FAULT_KIND_NOISE): ("imu", "noise", None),
    _key(TARGET_IMU, P.FAULT_KIND_SATURATION): ("imu", "full_scale", None),
    _key(TARGET_IMU, P.FAULT_KIND_RESET): ("imu", "reset_every", None),
    _key(TARGET_PROP, P.FAULT_KIND_LEAK): ("vehicle", "leak", None),
    _key(TARGET_PROP, P.FAULT_KIND_STUCK): ("vehicle", "regulator_stuck", None),
    _key(TARGET_PROP, P.FAULT_KIND_VALVE_STUCK): ("vehicle", "ox_valve_stuck", None),
    _key(TARGET_PROP, P.FAULT_KIND_BIAS): ("transducers", "fuel_bias", None),
    _key(TARGET_BATTERY, P.FAULT_KIND_UNDERVOLTAGE): ("vehicle", "battery_dv", None),
    _key(TARGET_BATTERY, P.FAULT_KIND_LEAK): ("vehicle", "drain", None),
    _key(TARGET_BATTERY, P.FAULT_KIND_BIAS): ("transducers", "batt_bias", None),
    _key(TARGET_ENGINE, P.FAULT_KIND_THRUST): ("vehicle", "main_scale", None),
    _key(TARGET_ENGINE, P.FAULT_KIND_STUCK): ("vehicle", "throttle_stuck", None),
    _key(TARGET_ENGINE, P.FAULT_KIND_NO_CUTOFF): ("vehicle", "no_cutoff", True),
    _key(TARGET_ENGINE, P.FAULT_KIND_THRUSTER_OUT): ("vehicle", "tdt_failed", None),
    _key(TARGET_STAR_TRACKER, P.FAULT_KIND_LOST): ("star_tracker", "lost", True),
    _key(TARGET_DOWNLINK, P.FAULT_KIND_OUTAGE): ("downlink", "blackout", True),
}

# Healthy value of every field a target's faults touch (CLEAR_FAULT restores them; None:
# the unit's own design value). The LRF's plug is not among them.
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
    try:
        key = _key(int(target), int(kind))
    except (TypeError, ValueError):
        return P.REASON_BAD_ARGUMENTS
    effect = EFFECTS.get(key)
    if effect is None or key not in C.FAULTS:
        return P.REASON_OUT_OF_RANGE
    part, field, fixed = effect
    limits = C.FAULTS[key]
    if limits is None:
        value = fixed
    else:
        try:
            value = float(magnitude)
        except (TypeError, ValueError):
            return P.REASON_BAD_ARGUMENTS
        low, high, above = limits
        if not low <= value <= high or (above and value == low):   # NaN fails too
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
