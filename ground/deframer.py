"""Serial framing: a byte stream in, COBS-decoded frames out (sans-I/O).

The wire puts one COBS-encoded packet and one 0x00 delimiter after another (DESIGN.md, "The
wire contract"). A receiver resynchronises at the next 0x00 after any corruption, so a run of
bytes between two delimiters is the unit: :meth:`Deframer.split` cuts the stream into runs,
keeping what comes after the last delimiter for the next call, and :meth:`Deframer.feed`
also decodes them.

Two things make the result independent of how the stream was chunked:

* a run longer than ``max_frame`` cannot be a frame; only its last ``max_frame + 1`` bytes
  are kept (memory stays bounded however long the noise), whether the run arrived in one
  piece or a byte at a time, and it is counted once, when it ends;
* garbage in front of a frame (noise on the line, a lost delimiter) spoils the whole run; a
  frame that is intact at the run's end is found by :meth:`Deframer.resync`, which tries the
  run's tails, longest first, within the longest frame that can be intact.

What "intact" means (a CRC, a known header) belongs to the layer above: it passes a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from cobs.cobs import DecodeError
from cobs.cobs import decode as cobs_decode

__all__ = ["Deframer", "DeframerStats", "MAX_FRAME"]

#: No frame of the wire is longer than this; a longer run is noise (its tail may hide one).
MAX_FRAME = 4096


@dataclass
class DeframerStats:
    """What the stream held. Every non-empty run is one of ``frames``."""

    bytes: int = 0
    frames: int = 0  # delimited runs, and frames found hidden at the end of a bad run
    cobs_errors: int = 0  # runs that are not COBS and hide no intact frame
    oversize_runs: int = 0  # runs longer than max_frame
    resyncs: int = 0  # intact frames cut out of the end of a bad run

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Deframer:
    """``feed(bytes) -> [frame]``, ``close() -> [frame]``; frames are COBS-decoded.

    ``intact(frame)`` says whether a decoded frame is good (a packet whose CRC checks); with
    it, a run that is not good is searched for an intact frame at its end, at most
    ``longest`` encoded bytes long. Without it every run that decodes is handed on.

    >>> d = Deframer()
    >>> d.feed(b"\\x03ab\\x00\\x02")
    [b'ab']
    >>> d.feed(b"c\\x00")
    [b'c']
    """

    def __init__(
        self,
        max_frame: int = MAX_FRAME,
        *,
        intact: Callable[[bytes], bool] | None = None,
        longest: int | None = None,
    ) -> None:
        self.max_frame = max_frame
        self.intact = intact
        self.longest = min(longest or max_frame, max_frame)
        self.stats = DeframerStats()
        self._partial = b""

    def split(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """The complete runs ``data`` ends, still COBS-encoded, empty ones left out.

        A run longer than ``max_frame`` comes out as its last ``max_frame + 1`` bytes (so
        ``len(run) > max_frame`` marks it) and is counted in ``oversize_runs``."""
        stats = self.stats
        stats.bytes += len(data)
        limit = self.max_frame
        runs = (self._partial + bytes(data)).split(b"\x00")
        partial = runs.pop()
        self._partial = partial if len(partial) <= limit else partial[-limit - 1 :]
        runs = [run for run in runs if run]
        stats.frames += len(runs)
        for i, run in enumerate(runs):
            if len(run) > limit:
                stats.oversize_runs += 1
                runs[i] = run[-limit - 1 :]
        return runs

    def end(self) -> bytes:
        """End of stream: the unterminated last run (``b""`` if none), counted as a run."""
        run, self._partial = self._partial, b""
        if run:
            self.stats.frames += 1
            if len(run) > self.max_frame:
                self.stats.oversize_runs += 1
        return run

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Take the next bytes of the stream; return the frames they complete."""
        return self._decode(self.split(data))

    def close(self) -> list[bytes]:
        """End of stream: a final unterminated run, decoded if it is a frame after all."""
        run = self.end()
        return self._decode([run]) if run else []

    def decode(self, run: bytes) -> bytes | None:
        """One run's frame: decoded if it is a good frame (or hides one), else None."""
        frame: bytes | None = None
        if len(run) <= self.max_frame:
            try:
                frame = cobs_decode(run)
            except DecodeError:
                frame = None
        if frame is not None and (self.intact is None or self.intact(frame)):
            return frame
        hidden = self.resync(run)
        if hidden is not None:
            return hidden
        if frame is None and len(run) <= self.max_frame:
            self.stats.cobs_errors += 1
        return frame

    def resync(self, run: bytes) -> bytes | None:
        """The intact frame at the end of a bad run, if any (counted as a resync and a frame)."""
        intact = self.intact
        if intact is None:
            return None
        for i in range(max(1, len(run) - self.longest), len(run)):
            try:
                frame: bytes = cobs_decode(run[i:])
            except DecodeError:
                continue
            if intact(frame):
                self.stats.resyncs += 1
                self.stats.frames += 1
                return frame
        return None

    def _decode(self, runs: list[bytes]) -> list[bytes]:
        out = []
        for run in runs:
            frame = self.decode(run)
            if frame is not None:
                out.append(frame)
        return out
