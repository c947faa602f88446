"""The runner's stdin/stdout framing: one type octet, a 4-octet big-endian length, the payload.

Why frames: one pipe carries the USB-CDC console, UART0 and control or events, and the
console's bytes are binary (telemetry), so no delimiter could separate them. Sans-I/O: the
board's thread feeds whatever it read and gets whole frames back.
"""

from __future__ import annotations

import struct

__all__ = ["CDC", "UART", "CONTROL", "EVENT", "MAX_PAYLOAD", "frame", "Deframer"]

CDC = b"c"  # the USB-CDC console, both ways
UART = b"u"  # UART0: RX in, TX out
CONTROL = b"x"  # to the runner: a control line
EVENT = b"e"  # from the runner: a JSON event
MAX_PAYLOAD = 1 << 24  # more than any runner frame; past it the stream is corrupt
_HEAD = struct.Struct(">cI")


def frame(kind: bytes, payload: bytes) -> bytes:
    """One frame of ``kind`` carrying ``payload``."""
    return _HEAD.pack(kind, len(payload)) + payload


class Deframer:
    """Bytes in, (kind, payload) frames out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self._buf += data
        out = []
        while len(self._buf) >= _HEAD.size:
            kind, size = _HEAD.unpack_from(self._buf)
            if size > MAX_PAYLOAD:
                raise ValueError(f"runner frame of {size} bytes: the stream is corrupt")
            end = _HEAD.size + size
            if len(self._buf) < end:
                break
            out.append((kind, bytes(self._buf[_HEAD.size : end])))
            del self._buf[:end]
        return out
