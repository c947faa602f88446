# Telemetry encoder of the lander, generated from schemas/telemetry.toml by
# `make generate` (python -m schemas.codegen). Do not edit: edit the dictionary.
from micropython import const
from struct import pack_into

# The dictionary this was generated from (IDENT.dictionary; schemas/fingerprint.py).
DICTIONARY_ID = 0xf4a801ca
HEAP_BYTES = const(196608)  # the flight computer's MicroPython heap
N_PACKETS = const(9)
MAX_PACKET = const(100)

# Packet indices, APIDs and default rates (mHz; 0 = sent on occurrence).
HK = const(0)
IDENT = const(1)
NAV = const(2)
PROP = const(3)
POWER = const(4)
EVENT = const(5)
TC_VERIFY = const(6)
PONG = const(7)
TRUTH = const(8)
NAMES = ('HK', 'IDENT', 'NAV', 'PROP', 'POWER', 'EVENT', 'TC_VERIFY', 'PONG', 'TRUTH', )
APIDS = (0x010, 0x011, 0x020, 0x030, 0x040, 0x050, 0x060, 0x070, 0x080, )
RATES_MHZ = (1000, 100, 10000, 2000, 1000, 0, 0, 0, 2000, )

# Enumerated states, as <FIELD>_<STATE>.
MODE_BOOT = const(0)
MODE_NOMINAL = const(1)
MODE_SAFE = const(2)
MODE_MAINTENANCE = const(3)
PHASE_IDLE = const(0)
PHASE_ARMED = const(1)
PHASE_DESCENT_ORBIT = const(2)
PHASE_BRAKING = const(3)
PHASE_APPROACH = const(4)
PHASE_TERMINAL = const(5)
PHASE_LANDED = const(6)
PHASE_SAFE = const(7)
PHASE_ABORT = const(8)
PHASE_CRASHED = const(9)
LRF_VALID_INVALID = const(0)
LRF_VALID_VALID = const(1)
NAV_MODE_INERTIAL = const(0)
NAV_MODE_RANGE_AIDED = const(1)
NAV_MODE_RANGE_REJECTED = const(2)
ACCEL_SOURCE_IMU = const(0)
ACCEL_SOURCE_ENGINE_MODEL = const(1)
GUIDANCE_MODE_OFF = const(0)
GUIDANCE_MODE_NOMINAL = const(1)
GUIDANCE_MODE_HOLD_DESCENT = const(2)
GUIDANCE_MODE_HOVER = const(3)
GUIDANCE_MODE_TO_ORBIT = const(4)
GUIDANCE_MODE_LAND_NOW = const(5)
LRF_STATE_NO_RETURN = const(0)
LRF_STATE_ACCEPTED = const(1)
LRF_STATE_REJECTED = const(2)
LRF_STATE_EXCLUDED = const(3)
LRF_STATE_STUCK = const(4)
LRF_ARMED_PLUGGED = const(0)
LRF_ARMED_ARMED = const(1)
AID_NONE = const(0)
AID_LRF = const(1)
AID_NDL = const(2)
AID_OPTICAL = const(3)
STAR_TRACKER_LOST = const(0)
STAR_TRACKER_TRACKING = const(1)
ENGINE_OFF = const(0)
ENGINE_ON = const(1)
PRESSURANT_LATCH_OPEN = const(0)
PRESSURANT_LATCH_CLOSED = const(1)
LOADS_NORMAL = const(0)
LOADS_SHED = const(1)
EVENT_ID_BOOT = const(1)
EVENT_ID_PHASE_CHANGE = const(2)
EVENT_ID_MODE_CHANGE = const(3)
EVENT_ID_TM_RATE_CHANGED = const(4)
EVENT_ID_BREAK_IN = const(5)
EVENT_ID_LRF_FAULT = const(10)
EVENT_ID_LRF_REJECTED = const(11)
EVENT_ID_LRF_READMITTED = const(12)
EVENT_ID_LRF_LATE = const(13)
EVENT_ID_LRF_INHIBITED = const(14)
EVENT_ID_IMU_FAULT = const(15)
EVENT_ID_LRF_BIT_PASSED = const(16)
EVENT_ID_STAR_TRACKER_LOST = const(17)
EVENT_ID_TRANSDUCER_FAULT = const(18)
EVENT_ID_LOW_PROPELLANT = const(20)
EVENT_ID_TANK_OVERPRESSURE = const(21)
EVENT_ID_BATTERY_UNDERVOLTAGE = const(22)
EVENT_ID_LOOP_OVERRUN = const(23)
EVENT_ID_PROP_LEAK = const(24)
EVENT_ID_ENGINE_ANOMALY = const(25)
EVENT_ID_THROTTLE_STUCK = const(26)
EVENT_ID_NO_CUTOFF = const(27)
EVENT_ID_THRUSTER_FAULT = const(28)
EVENT_ID_TOUCHDOWN = const(30)
EVENT_ID_ABORT = const(31)
EVENT_ID_SAFE_ENTERED = const(32)
EVENT_ID_FAULT_INJECTED = const(40)
EVENT_ID_FAULT_CLEARED = const(41)
SEVERITY_INFO = const(0)
SEVERITY_WARNING = const(1)
SEVERITY_ERROR = const(2)
SEVERITY_CRITICAL = const(3)
RESPONSE_NONE = const(0)
RESPONSE_SAFE = const(1)
RESPONSE_HOLD_DESCENT = const(2)
RESPONSE_ABORT_TO_ORBIT = const(3)
RESPONSE_SWITCH_SOURCE = const(4)
RESPONSE_LAND_NOW = const(5)
RESPONSE_ISOLATE_PRESSURANT = const(6)
RESPONSE_SHED_LOADS = const(7)
RESPONSE_SHED_TELEMETRY = const(8)
RESPONSE_RECALIBRATE_ENGINE = const(9)
RESPONSE_MAIN_ON_OFF = const(10)
RESPONSE_ISOLATE_MAIN = const(11)
STAGE_ACCEPTED = const(1)
STAGE_STARTED = const(2)
STAGE_COMPLETED = const(3)
STAGE_FAILED = const(4)
REASON_NONE = const(0)
REASON_BAD_CRC = const(1)
REASON_BAD_LENGTH = const(2)
REASON_UNKNOWN_KEY = const(3)
REASON_BAD_MAC = const(4)
REASON_REPLAY = const(5)
REASON_UNKNOWN_COMMAND = const(6)
REASON_BAD_ARGUMENTS = const(7)
REASON_OUT_OF_RANGE = const(8)
REASON_NOT_ALLOWED = const(9)
REASON_EXECUTION_ERROR = const(10)

# Enumerations, as <ENUM>_<STATE>; <ENUM>_NAMES where the values count from 0.
TRIGGER_ARM = const(1)
TRIGGER_START_DESCENT = const(2)
TRIGGER_ABORT = const(3)
TRIGGER_SAFE = const(4)
TRIGGER_NO_GO = const(5)
TRIGGER_PDI = const(6)
TRIGGER_HIGH_GATE = const(7)
TRIGGER_LOW_GATE = const(8)
TRIGGER_CONTACT = const(9)
TRIGGER_CRASH = const(10)
TRIGGER_ORBIT_REACHED = const(11)
TRIGGER_HOVER_DONE = const(12)
FDIR_ROW_LRF_INHIBITED = const(0)
FDIR_ROW_LRF_LATE = const(1)
FDIR_ROW_LRF_FAULT = const(2)
FDIR_ROW_IMU_FAULT = const(3)
FDIR_ROW_LOW_PROPELLANT = const(4)
FDIR_ROW_PROP_LEAK = const(5)
FDIR_ROW_TANK_OVERPRESSURE = const(6)
FDIR_ROW_BATTERY_UNDERVOLTAGE = const(7)
FDIR_ROW_LOOP_OVERRUN = const(8)
FDIR_ROW_ENGINE_ANOMALY = const(9)
FDIR_ROW_THROTTLE_STUCK = const(10)
FDIR_ROW_NO_CUTOFF = const(11)
FDIR_ROW_THRUSTER_FAULT = const(12)
FDIR_ROW_STAR_TRACKER_LOST = const(13)
FDIR_ROW_TRANSDUCER_FAULT = const(14)
FDIR_ROW_NAMES = ('LRF_INHIBITED', 'LRF_LATE', 'LRF_FAULT', 'IMU_FAULT', 'LOW_PROPELLANT', 'PROP_LEAK', 'TANK_OVERPRESSURE', 'BATTERY_UNDERVOLTAGE', 'LOOP_OVERRUN', 'ENGINE_ANOMALY', 'THROTTLE_STUCK', 'NO_CUTOFF', 'THRUSTER_FAULT', 'STAR_TRACKER_LOST', 'TRANSDUCER_FAULT', )
FAULT_TARGET_LRF = const(1)
FAULT_TARGET_IMU = const(2)
FAULT_TARGET_PROP = const(3)
FAULT_TARGET_BATTERY = const(4)
FAULT_TARGET_ENGINE = const(5)
FAULT_TARGET_STAR_TRACKER = const(6)
FAULT_TARGET_DOWNLINK = const(7)
FAULT_KIND_STUCK = const(1)
FAULT_KIND_DROPOUT = const(2)
FAULT_KIND_BIAS = const(3)
FAULT_KIND_NOISE = const(4)
FAULT_KIND_DEGRADED_RANGE = const(5)
FAULT_KIND_LEAK = const(6)
FAULT_KIND_UNDERVOLTAGE = const(7)
FAULT_KIND_INHIBIT = const(8)
FAULT_KIND_SATURATION = const(9)
FAULT_KIND_RESET = const(10)
FAULT_KIND_THRUST = const(11)
FAULT_KIND_NO_CUTOFF = const(12)
FAULT_KIND_THRUSTER_OUT = const(13)
FAULT_KIND_LOST = const(14)
FAULT_KIND_VALVE_STUCK = const(15)
FAULT_KIND_OUTAGE = const(16)


class HkPoints:
    """Raw values of HK, updated in place by the flight software."""

    def __init__(self):
        self.mode = 0
        self.phase = 0
        self.uptime = 0
        self.tc_accepted = 0
        self.tc_rejected = 0
        self.tc_counter = 0
        self.tc_rej_bad_crc = 0
        self.tc_rej_bad_length = 0
        self.tc_rej_unknown_key = 0
        self.tc_rej_bad_mac = 0
        self.tc_rej_replay = 0
        self.tc_rej_unknown_command = 0
        self.tc_rej_bad_arguments = 0
        self.tc_rej_out_of_range = 0
        self.tc_rej_not_allowed = 0
        self.tc_rej_execution_error = 0
        self.tm_sent = 0
        self.heap_free = 0
        self.board_temp = 0
        self.loop_overruns = 0
        self.fdir_flags = 0
        self.tc_key_id = 0
        self.fdir_disabled = 0


def pack_hk(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack HK up to its CRC into buf; return the length packed (64)."""
    pack_into('>HHHHHHBBIHHIHHHHHHHHHHIIHHHHH', buf, 0, 0x0810, 0xc000 | seq,
              59, coarse_hi, coarse_lo, fine, s.mode, s.phase, s.uptime, s.tc_accepted, s.tc_rejected, s.tc_counter, s.tc_rej_bad_crc, s.tc_rej_bad_length, s.tc_rej_unknown_key, s.tc_rej_bad_mac, s.tc_rej_replay, s.tc_rej_unknown_command, s.tc_rej_bad_arguments, s.tc_rej_out_of_range, s.tc_rej_not_allowed, s.tc_rej_execution_error, s.tm_sent, s.heap_free, s.board_temp, s.loop_overruns, s.fdir_flags, s.tc_key_id, s.fdir_disabled)
    return 64


class IdentPoints:
    """Raw values of IDENT, updated in place by the flight software."""

    def __init__(self):
        self.vehicle = b''
        self.boot = 0
        self.firmware = 0
        self.dictionary = 0
        self.key_id = 0


def pack_ident(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack IDENT up to its CRC into buf; return the length packed (42)."""
    pack_into('>HHHHHH16sIIIH', buf, 0, 0x0811, 0xc000 | seq,
              37, coarse_hi, coarse_lo, fine, s.vehicle, s.boot, s.firmware, s.dictionary, s.key_id)
    return 42


class NavPoints:
    """Raw values of NAV, updated in place by the flight software."""

    def __init__(self):
        self.altitude = 0.0
        self.lrf_range = 0.0
        self.lrf_valid = 0
        self.nav_mode = 0
        self.vel_vertical = 0.0
        self.vel_horizontal = 0.0
        self.q_w = 0.0
        self.q_x = 0.0
        self.q_y = 0.0
        self.q_z = 0.0
        self.rate_x = 0.0
        self.rate_y = 0.0
        self.rate_z = 0.0
        self.accel_x = 0.0
        self.accel_y = 0.0
        self.accel_z = 0.0
        self.innovation = 0.0
        self.alt_sigma = 0.0
        self.lrf_rejects = 0
        self.accel_source = 0
        self.guidance_mode = 0
        self.lrf_state = 0
        self.lrf_return = 0.0
        self.lrf_armed = 0
        self.vz_sigma = 0.0
        self.vx_sigma = 0.0
        self.aid = 0
        self.star_tracker = 0


def pack_nav(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack NAV up to its CRC into buf; return the length packed (98)."""
    pack_into('>HHHHHHffBBffffffffffffffHBBBfBffBB', buf, 0, 0x0820, 0xc000 | seq,
              93, coarse_hi, coarse_lo, fine, s.altitude, s.lrf_range, s.lrf_valid, s.nav_mode, s.vel_vertical, s.vel_horizontal, s.q_w, s.q_x, s.q_y, s.q_z, s.rate_x, s.rate_y, s.rate_z, s.accel_x, s.accel_y, s.accel_z, s.innovation, s.alt_sigma, s.lrf_rejects, s.accel_source, s.guidance_mode, s.lrf_state, s.lrf_return, s.lrf_armed, s.vz_sigma, s.vx_sigma, s.aid, s.star_tracker)
    return 98


class PropPoints:
    """Raw values of PROP, updated in place by the flight software."""

    def __init__(self):
        self.fuel_pressure = 0
        self.ox_pressure = 0
        self.fuel_temp = 0
        self.ox_temp = 0
        self.propellant_mass = 0.0
        self.throttle = 0
        self.thrust = 0.0
        self.engine = 0
        self.pressurant_pressure = 0
        self.pressurant_latch = 0
        self.chamber_pressure = 0.0
        self.throttle_achieved = 0
        self.thruster_duty = 0
        self.propellant_needed = 0.0


def pack_prop(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack PROP up to its CRC into buf; return the length packed (46)."""
    pack_into('>HHHHHHHHhhfHfBHBfHHf', buf, 0, 0x0830, 0xc000 | seq,
              41, coarse_hi, coarse_lo, fine, s.fuel_pressure, s.ox_pressure, s.fuel_temp, s.ox_temp, s.propellant_mass, s.throttle, s.thrust, s.engine, s.pressurant_pressure, s.pressurant_latch, s.chamber_pressure, s.throttle_achieved, s.thruster_duty, s.propellant_needed)
    return 46


class PowerPoints:
    """Raw values of POWER, updated in place by the flight software."""

    def __init__(self):
        self.battery_voltage = 0
        self.battery_current = 0
        self.state_of_charge = 0
        self.solar_current = 0
        self.loads = 0
        self.avionics_temp = 0


def pack_power(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack POWER up to its CRC into buf; return the length packed (22)."""
    pack_into('>HHHHHHHhBHBh', buf, 0, 0x0840, 0xc000 | seq,
              17, coarse_hi, coarse_lo, fine, s.battery_voltage, s.battery_current, s.state_of_charge, s.solar_current, s.loads, s.avionics_temp)
    return 22


class EventPoints:
    """Raw values of EVENT, updated in place by the flight software."""

    def __init__(self):
        self.event_id = 0
        self.severity = 0
        self.arg1 = 0
        self.arg2 = 0
        self.arg3 = 0
        self.response = 0


def pack_event(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack EVENT up to its CRC into buf; return the length packed (28)."""
    pack_into('>HHHHHHHBiiiB', buf, 0, 0x0850, 0xc000 | seq,
              23, coarse_hi, coarse_lo, fine, s.event_id, s.severity, s.arg1, s.arg2, s.arg3, s.response)
    return 28


class TcVerifyPoints:
    """Raw values of TC_VERIFY, updated in place by the flight software."""

    def __init__(self):
        self.cmd_code = 0
        self.tc_seq = 0
        self.counter = 0
        self.stage = 0
        self.reason = 0
        self.mode = 0
        self.phase = 0


def pack_tc_verify(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack TC_VERIFY up to its CRC into buf; return the length packed (24)."""
    pack_into('>HHHHHHHHIBBBB', buf, 0, 0x0860, 0xc000 | seq,
              19, coarse_hi, coarse_lo, fine, s.cmd_code, s.tc_seq, s.counter, s.stage, s.reason, s.mode, s.phase)
    return 24


class PongPoints:
    """Raw values of PONG, updated in place by the flight software."""

    def __init__(self):
        self.token = 0


def pack_pong(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack PONG up to its CRC into buf; return the length packed (16)."""
    pack_into('>HHHHHHI', buf, 0, 0x0870, 0xc000 | seq,
              11, coarse_hi, coarse_lo, fine, s.token)
    return 16


class TruthPoints:
    """Raw values of TRUTH, updated in place by the flight software."""

    def __init__(self):
        self.altitude = 0.0
        self.terrain = 0.0
        self.downrange = 0.0
        self.vel_vertical = 0.0
        self.vel_horizontal = 0.0
        self.mass = 0.0
        self.propellant = 0.0


def pack_truth(buf, seq, coarse_hi, coarse_lo, fine, s):
    """Pack TRUTH up to its CRC into buf; return the length packed (40)."""
    pack_into('>HHHHHHfffffff', buf, 0, 0x0880, 0xc000 | seq,
              35, coarse_hi, coarse_lo, fine, s.altitude, s.terrain, s.downrange, s.vel_vertical, s.vel_horizontal, s.mass, s.propellant)
    return 40


PACKERS = (pack_hk, pack_ident, pack_nav, pack_prop, pack_power, pack_event, pack_tc_verify, pack_pong, pack_truth, )


def new_points():
    """One points object per packet, in packet-index order."""
    return (HkPoints(), IdentPoints(), NavPoints(), PropPoints(), PowerPoints(), EventPoints(), TcVerifyPoints(), PongPoints(), TruthPoints(),)
