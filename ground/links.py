"""Link adapters: the thin I/O edge that moves bytes between a vehicle and the decoder.

A link is named by URL (DESIGN.md, "Conventions"):

=====================================  =====================================================
``serial:///dev/ttyACM0?baud=115200``  a board's serial port (pyserial)
``socket://host:port``, ``loop://``,   any other pyserial URL, passed through
``rfc2217://host:port``
``tcp://host:port``                    raw TCP (pyserial's ``socket://``)
``file://capture.bin``                 a raw capture, read once to the end
``sil://?time_warp=10&seed=1``         starts a virtual board (registered by :mod:`sil.link`)
``silicon://?time_warp=10``            starts a silicon board: rp2 MicroPython on an emulated
                                       RP2040, flashed with the firmware (:mod:`sil.silicon`)
``mqtt://host:1883/LANDER-1``          a vehicle's telemetry through ``lander ground``'s
``mqtts://user:pw@host:8883/LANDER-1``  broker (:mod:`ground.mqtt.link`)
=====================================  =====================================================

Other packages add link types: an entry point in the ``lander.links`` group names a
scheme and a callable that opens its URL (``sil = "sil.link:open_sil_link"``), so the
ground knows no link type it does not own. Adapters only move bytes; every link is decoded
by the same :class:`TelemetryDecoder`.
Failures a user can cause (no such port, a board unplugged, a missing file) raise
:class:`LinkError` with one line that says what to do.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import serial

from .errors import LinkUnavailable
from .portowner import busy_message

__all__ = [
    "Link",
    "LinkError",
    "LinkClosed",
    "PortBusy",
    "open_link",
    "SerialLink",
    "FileLink",
    "LinkFactory",
    "register_link",
    "link_factory",
    "link_schemes",
    "link_options",
]


class LinkError(LinkUnavailable):
    """A link could not be opened or failed; the message is one line for the user."""


class PortBusy(LinkError):
    """Another process owns the serial port; the message names it and what to do instead."""


class LinkClosed(LinkError):
    """The far end went away (end of file, board unplugged, virtual board stopped)."""


class Link(Protocol):
    url: str
    #: whether ``reopen()`` may bring the link back after it was lost (a serial port)
    reconnectable: bool

    def read(self, timeout: float = 0.1) -> bytes:
        """Bytes received within ``timeout`` seconds (``b""`` if none); LinkClosed at the end."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SerialLink:
    """A serial port or any pyserial URL."""

    reconnectable = True

    def __init__(self, url: str, target: str, baud: int = 115200) -> None:
        self.url = url
        self._target = target
        self._baud = baud
        self._open()

    def reopen(self) -> None:
        """Open the port again (the board came back); LinkError while it is not there."""
        self._open()

    def _open(self) -> None:
        target, baud = self._target, self._baud
        try:
            if "://" in target:
                self._port = serial.serial_for_url(target, baudrate=baud, timeout=0.1)
            else:  # a device has one owner (ground.portowner)
                self._port = serial.Serial(target, baudrate=baud, timeout=0.1, exclusive=True)
        except serial.SerialException as exc:
            if "://" not in target and not os.path.exists(target):
                raise LinkError(
                    f"no serial port {target}: is the board plugged in? "
                    "Pass --link serial:///dev/ttyACMn with the right device "
                    "(`python -m serial.tools.list_ports` lists them)"
                ) from None
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in str(exc):
                raise PortBusy(busy_message(target, self.url)) from None
            raise LinkError(f"cannot open {target}: {_reason(exc)}") from None

    def read(self, timeout: float = 0.1) -> bytes:
        try:
            self._port.timeout = timeout
            first = self._port.read(1)
            if not first:
                return b""
            waiting = self._port.in_waiting
            data: bytes = first + (self._port.read(waiting) if waiting else b"")
            return data
        except (serial.SerialException, OSError) as exc:
            raise LinkClosed(f"lost {self._target}: {_reason(exc)}") from None

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkClosed(f"lost {self._target}: {_reason(exc)}") from None

    def close(self) -> None:
        self._port.close()


class FileLink:
    """A raw capture file (``-`` is standard input)."""

    CHUNK = 1 << 16
    reconnectable = False

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        try:
            self._file = open(path, "rb") if path != "-" else os.fdopen(0, "rb", closefd=False)
        except FileNotFoundError:
            raise LinkError(f"no such capture file: {path}") from None
        except OSError as exc:
            raise LinkError(f"cannot read {path}: {exc.strerror}") from None

    def read(self, timeout: float = 0.1) -> bytes:
        data = self._file.read(self.CHUNK)
        if not data:
            raise LinkClosed("end of capture")
        return data

    def write(self, data: bytes) -> None:
        raise LinkError("a capture file is read-only: commands need a live link")

    def close(self) -> None:
        self._file.close()


#: Opens a link from its URL; a package registers one per scheme (``lander.links``).
LinkFactory = Callable[[str], Link]
ENTRY_POINT_GROUP = "lander.links"


def _serial(url: str) -> Link:
    parts = urlsplit(url)
    options = _options(parts.query)
    try:
        baud = int(options.get("baud", 115200))
    except ValueError:
        raise LinkError(f"baud={options['baud']!r} is not a number") from None
    return SerialLink(url, unquote(parts.netloc + parts.path), baud)


def _file(url: str) -> Link:
    parts = urlsplit(url)
    return FileLink(url, unquote(parts.netloc + parts.path))


def _tcp(url: str) -> Link:
    return SerialLink(url, f"socket://{urlsplit(url).netloc}")


def _pyserial(url: str) -> Link:
    return SerialLink(url, url)


_BUILT_IN: dict[str, LinkFactory] = {
    "serial": _serial,
    "file": _file,
    "tcp": _tcp,
    **dict.fromkeys(("socket", "loop", "rfc2217", "spy", "alt", "hwgrep"), _pyserial),
}
_registered: dict[str, LinkFactory] = {}


def register_link(scheme: str, factory: LinkFactory) -> None:
    """Make ``scheme://`` links open with ``factory(url)`` in this process (packages
    register theirs with the ``lander.links`` entry point group instead)."""
    _registered[scheme] = factory


def link_factory(scheme: str) -> LinkFactory | None:
    """The factory of a scheme: registered here, built in, or from an installed package."""
    if scheme in _registered:
        return _registered[scheme]
    if scheme in _BUILT_IN:
        return _BUILT_IN[scheme]
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=scheme):
        factory: LinkFactory = entry.load()
        _registered[scheme] = factory
        return factory
    return None


def link_schemes() -> list[str]:
    """Every scheme a link URL may have here."""
    installed = {e.name for e in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted({*_BUILT_IN, *_registered, *installed})


def open_link(url: str) -> Link:
    """Open a link by URL; a bare path is a serial device (or a file if it is a file)."""
    if "://" not in url:
        if os.path.isfile(url) or url == "-":
            return FileLink(f"file://{url}", url)
        return SerialLink(f"serial://{url}", url)
    scheme = urlsplit(url).scheme
    factory = link_factory(scheme)
    if factory is not None:
        return factory(url)
    raise LinkError(
        f"unknown link {url!r}: use serial:///dev/ttyACM0, tcp://host:port, "
        f"file://capture.bin or another of {', '.join(s + '://' for s in link_schemes())}"
    )


def link_options(url: str) -> dict[str, str]:
    """A link URL's query as options (the last value of each)."""
    return _options(urlsplit(url).query)


def _options(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query).items()}


def read_for(link: Link, seconds: float) -> bytes:
    """Everything a link delivers within ``seconds`` (or until it closes)."""
    end = time.monotonic() + seconds
    chunks = []
    while (left := end - time.monotonic()) > 0:
        try:
            chunks.append(link.read(min(left, 0.1)))
        except LinkClosed:
            break
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
