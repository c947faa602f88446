# Telecommand table of the lander, generated from schemas/commands.toml by
# `make generate` (python -m schemas.codegen). Do not edit: edit the dictionary.
from micropython import const

TC_APID = const(0x100)
TC_WORD0 = const(0x1900)  # first header word: version 0, type TC, sec. header
N_COMMANDS = const(13)
MIN_TC = const(32)
MAX_TC = const(38)

# Telecommand layout (schemas/wire.py): offsets in the packet, tag length.
TC_KEY_ID_AT = const(6)
TC_COUNTER_AT = const(8)
TC_CODE_AT = const(12)
TC_ARGS_AT = const(14)
TC_MAC_LEN = const(16)

# Argument ranges the dictionary sets, as <COMMAND>_<ARGUMENT>_MIN/_MAX.
SET_TM_RATE_HZ_MIN = 0.0
SET_TM_RATE_HZ_MAX = 50.0
SET_TIME_WARP_FACTOR_MIN = const(1)
SET_TIME_WARP_FACTOR_MAX = const(10000)
INJECT_FAULT_MAGNITUDE_MIN = -1000000.0
INJECT_FAULT_MAGNITUDE_MAX = 1000000.0

# Command codes.
NOOP = const(0x0001)
PING = const(0x0002)
SET_TM_RATE = const(0x0010)
SET_MODE = const(0x0011)
SET_TIME = const(0x0012)
SET_TIME_WARP = const(0x0013)
ARM = const(0x0020)
START_DESCENT = const(0x0021)
ABORT = const(0x0022)
SAFE = const(0x0023)
RESET = const(0x0030)
INJECT_FAULT = const(0x0040)
CLEAR_FAULT = const(0x0041)

# The table, by index. ARGS_FMT: struct format of the arguments after the code;
# MODES: HK.mode values in which the command is accepted (None: any); CHECKS: per
# argument (low, high, allowed values or None).
CODES = (0x0001, 0x0002, 0x0010, 0x0011, 0x0012, 0x0013, 0x0020, 0x0021, 0x0022, 0x0023, 0x0030, 0x0040, 0x0041, )
NAMES = ('NOOP', 'PING', 'SET_TM_RATE', 'SET_MODE', 'SET_TIME', 'SET_TIME_WARP', 'ARM', 'START_DESCENT', 'ABORT', 'SAFE', 'RESET', 'INJECT_FAULT', 'CLEAR_FAULT', )
ARGS_FMT = ('>', '>I', '>Hf', '>B', '>I', '>H', '>', '>', '>', '>', '>', '>BBf', '>B', )
ARGS_LEN = (0, 4, 6, 1, 4, 2, 0, 0, 0, 0, 0, 6, 1, )
MODES = (None, None, None, None, None, None, (1,), (1,), None, None, None, None, None, )
CHECKS = (
    (),  # NOOP
    ((0, 4294967295, None), ),  # PING
    ((16, 64, (16, 32, 48, 64)), (0.0, 50.0, None), ),  # SET_TM_RATE
    ((1, 3, (1, 2, 3)), ),  # SET_MODE
    ((0, 4294967295, None), ),  # SET_TIME
    ((1, 10000, None), ),  # SET_TIME_WARP
    (),  # ARM
    (),  # START_DESCENT
    (),  # ABORT
    (),  # SAFE
    (),  # RESET
    ((1, 7, (1, 2, 3, 4, 5, 6, 7)), (1, 16, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), (-1000000.0, 1000000.0, None), ),  # INJECT_FAULT
    ((1, 7, (1, 2, 3, 4, 5, 6, 7)), ),  # CLEAR_FAULT
)

# Faults a command injects: (target << 8 | kind) -> (low, high, above) of the
# magnitude (above: low itself excluded), or None when the fault is on or off.
FAULTS = {
    0x0101: None,  # LRF STUCK
    0x0102: (0.0, 1.0, True),  # LRF DROPOUT
    0x0103: (-5000.0, 5000.0, False),  # LRF BIAS
    0x0104: (0.0, 5000.0, True),  # LRF NOISE
    0x0105: (10.0, 3000.0, False),  # LRF DEGRADED_RANGE
    0x0108: None,  # LRF INHIBIT
    0x0201: None,  # IMU STUCK
    0x0202: (0.0, 1.0, True),  # IMU DROPOUT
    0x0203: (-50.0, 50.0, False),  # IMU BIAS
    0x0204: (0.0, 50.0, True),  # IMU NOISE
    0x0306: (0.0, 20.0, True),  # PROP LEAK
    0x0301: (0.0, 10.0, True),  # PROP STUCK
    0x0303: (-50.0, 50.0, False),  # PROP BIAS
    0x0407: (0.0, 33.0, True),  # BATTERY UNDERVOLTAGE
    0x0406: (0.0, 50.0, True),  # BATTERY LEAK
    0x0403: (-10.0, 10.0, False),  # BATTERY BIAS
    0x0209: (1.0, 50.0, False),  # IMU SATURATION
    0x020a: (3.0, 600.0, False),  # IMU RESET
    0x030f: (0.0, 10.0, True),  # PROP VALVE_STUCK
    0x050b: (0.20000000298023224, 2.0, False),  # ENGINE THRUST
    0x0501: (0.30000001192092896, 1.0, False),  # ENGINE STUCK
    0x050c: None,  # ENGINE NO_CUTOFF
    0x050d: (1.0, 6.0, False),  # ENGINE THRUSTER_OUT
    0x060e: None,  # STAR_TRACKER LOST
    0x0710: None,  # DOWNLINK OUTAGE
}
