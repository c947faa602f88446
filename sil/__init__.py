"""A virtual Raspberry Pi Pico for software-in-the-loop runs: the real MicroPython VM on a pty.

`VirtualBoard(flash_dir).start()` gives a serial port (`.port`) that pyserial, mpremote and
the ground console open as they would a board's /dev/ttyACM0. See sil/board.py.
"""

from .board import VirtualBoard
from .vm import BoardError, find_micropython

__all__ = ["BoardError", "VirtualBoard", "find_micropython"]
