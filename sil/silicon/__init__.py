"""A silicon board: MicroPython's rp2 port on an emulated RP2040 (npm rp2040js), with its
USB-CDC console on a pty. See sil/silicon/board.py; the binaries it runs: images.py."""

from . import flashed
from .board import SiliconBoard, SiliconError, find_node
from .images import ImageError

__all__ = ["SiliconBoard", "SiliconError", "ImageError", "find_node", "flashed"]
