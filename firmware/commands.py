# Telecommand table of the lander, generated from schemas/commands.toml by
# `make generate` (python -m schemas.codegen). Do not edit: edit the dictionary.
from micropython import const

TC_APID = const(0x100)
TC_WORD0 = const(0x1900)  # first header word: version 0, type TC, sec. header
N_COMMANDS = const(13)
MIN_TC = const(32)
MAX_TC = const(38)

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
    ((1, 1000, None), ),  # SET_TIME_WARP
    (),  # ARM
    (),  # START_DESCENT
    (),  # ABORT
    (),  # SAFE
    (),  # RESET
    ((1, 7, (1, 2, 3, 4, 5, 6, 7)), (1, 16, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), (-1000000.0, 1000000.0, None), ),  # INJECT_FAULT
    ((1, 7, (1, 2, 3, 4, 5, 6, 7)), ),  # CLEAR_FAULT
)
