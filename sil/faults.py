"""Faults a virtual board has on demand, so that the tools that flash boards meet what real
boards do: a full or failing flash, a cable pulled mid-transfer, a reset when the port opens.

The flash's faults are the agent's (it owns the filesystem inside the VM, sil/agent.py): the
board passes them on its command line. The cable's are the serial port's: :class:`Cable`
decides, without I/O, what becomes of the bytes the host sends.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PICO_FLASH_BYTES", "Faults", "Cable"]

PICO_FLASH_BYTES = 1_441_792  # a Pico's MicroPython filesystem: 352 blocks of 4 KB


@dataclass(frozen=True)
class Faults:
    """What goes wrong with a board.

    flash_size: the flash holds that many bytes (a Pico's by default; None: the host's disk):
        a write past it fails with ENOSPC and os.statvfs tells what is free;
    bad_flash: a failing flash that stores every write with one bit flipped;
    unplug_after: the cable is pulled once the host has sent that many bytes: the port goes
        away under the program that has it open, and the board is gone for good;
    reset_on_open: the board resets when a program opens the port (as boards whose DTR/RTS
        lines drive the reset do) and loses what arrives while it boots;
    reset_after: the board resets once, when the host has sent that many bytes (a brown-out
        or a watchdog in the middle of a session), and loses what arrives while it boots.
    """

    flash_size: int | None = PICO_FLASH_BYTES
    bad_flash: bool = False
    unplug_after: int | None = None
    reset_on_open: bool = False
    reset_after: int | None = None

    def agent_args(self) -> list[str]:
        """The flash's faults, as sil/agent.py takes them on its command line."""
        args = [] if self.flash_size is None else [f"size={self.flash_size}"]
        return args + (["bitflip"] if self.bad_flash else [])


class Cable:
    """The USB side of a board's faults: what becomes of serial RX, and of opening the port."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.received = 0  # bytes the host sent
        self.deaf = False  # booting after a reset: serial RX is lost
        self.reset_due = False  # reset_after was reached: the board is to reset now

    def receive(self, data: bytes) -> bytes | None:
        """Serial RX as the board gets it; None once the cable is pulled."""
        before, self.received = self.received, self.received + len(data)
        limit = self.faults.unplug_after
        if limit is not None and self.received >= limit:
            return None
        kept = b"" if self.deaf else data
        reset = self.faults.reset_after
        if reset is not None and before < reset <= self.received:
            kept = kept[: reset - before]  # what came before the reset; the rest is lost
            self.deaf = self.reset_due = True
        return kept

    def opened(self) -> bool:
        """A program opened the port: whether the board resets (deaf until it is up)."""
        self.deaf = self.deaf or self.faults.reset_on_open
        return self.faults.reset_on_open

    def booted(self) -> None:
        self.deaf = False
