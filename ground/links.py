"""Link adapters: the thin I/O edge that moves bytes between a vehicle and the decoder.

A link is named by URL (DESIGN.md, "Conventions"):

=====================================  =====================================================
``serial:///dev/ttyACM0?baud=115200``  a board's serial port (pyserial)
``socket://host:port``, ``loop://``,   any other pyserial URL, passed through
``rfc2217://host:port``
``tcp://host:port``                    raw TCP (pyserial's ``socket://``)
``file://capture.bin``                 a raw capture, read once to the end
``sil://?time_warp=10&seed=1``         starts a virtual board and opens its serial port
``sil://?scenario=crater_rim``         ... flying a named scenario (``lander scenario --list``)
=====================================  =====================================================

Adapters only move bytes; every link is decoded by the same :class:`TelemetryDecoder`.
Failures a user can cause (no such port, a board unplugged, a missing file) raise
:class:`LinkError` with one line that says what to do.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path
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
    "SilLink",
    "provision_virtual_board",
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
            return first + (self._port.read(waiting) if waiting else b"")
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


class SilLink(SerialLink):
    """Starts a virtual board with the project's firmware and opens its serial port."""

    reconnectable = False  # a board that stopped does not come back

    def __init__(self, url: str, options: dict[str, str]) -> None:
        from sil.board import VirtualBoard

        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        flash = options.pop("flash", None)
        if flash is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lander-vboard-")
            flash = self._tmp.name
        try:
            provision_virtual_board(Path(flash), options)
        except LinkError:
            self._cleanup()
            raise
        self.board = VirtualBoard(Path(flash))
        try:
            self.board.start()
        except Exception as exc:
            self._cleanup()
            raise LinkError(f"virtual board did not start: {exc}") from None
        super().__init__(url, self.board.port)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        board = getattr(self, "board", None)
        if board is not None:
            board.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def sil_config(options: dict[str, str]) -> dict[str, object]:
    """config.json for a virtual board from URL or command-line options."""
    config: dict[str, object] = {}
    for key, cast in (("time_warp", int), ("seed", int), ("vehicle", str)):
        if key in options:
            try:
                config[key] = cast(options[key])
            except ValueError:
                raise LinkError(f"sil:// option {key}={options[key]!r} is not valid") from None
    config["autostart"] = options.get("autostart", "1") not in ("0", "false", "no")
    if "broker" in options:
        config["mqtt"] = board_mqtt(options["broker"])
    if "scenario" in options:
        from sil.scenarios import SCENARIOS

        scenario = SCENARIOS.get(options["scenario"])
        if scenario is None:
            raise LinkError(
                f"unknown scenario {options['scenario']!r}: `lander scenario --list` shows them"
            )
        config.update(scenario.config)
    return config


def board_mqtt(url: str) -> dict[str, object]:
    """config.json's "mqtt" for a board that publishes itself on the broker at ``url``."""
    from .mqtt.address import parse

    broker = parse(url)
    if broker.tls or broker.vehicle:
        raise LinkError(
            f"broker {url!r}: a board takes mqtt://[user:password@]host:port "
            "(plain MQTT, the vehicle from --vehicle)"
        )
    mqtt: dict[str, object] = {"broker": broker.host, "port": broker.port}
    if broker.username is not None:
        mqtt["user"] = broker.username
        if broker.password is not None:
            mqtt["password"] = broker.password
    return mqtt


def provision_virtual_board(flash: Path, options: dict[str, str]) -> dict[str, object]:
    """Put the firmware, its config.json and the vehicle's key (the ground's, made on first
    use) on a virtual board's flash; returns the config."""
    from sil.firmware import install_sources

    from .keys import DEFAULT_VEHICLE, KeyFileError, load_key

    config = sil_config(options)
    try:
        key = load_key(str(config.get("vehicle", DEFAULT_VEHICLE)))
    except KeyFileError as exc:
        raise LinkError(str(exc)) from None
    config["key_id"] = key.key_id
    install_sources(flash, config, key=key.secret)
    return config


def open_link(url: str) -> Link:
    """Open a link by URL; a bare path is a serial device (or a file if it is a file)."""
    if "://" not in url:
        if os.path.isfile(url) or url == "-":
            return FileLink(f"file://{url}", url)
        return SerialLink(f"serial://{url}", url)
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme
    if scheme == "serial":
        path = unquote(parts.netloc + parts.path)
        try:
            baud = int(options.get("baud", 115200))
        except ValueError:
            raise LinkError(f"baud={options['baud']!r} is not a number") from None
        return SerialLink(url, path, baud)
    if scheme == "file":
        return FileLink(url, unquote(parts.netloc + parts.path))
    if scheme == "tcp":
        return SerialLink(url, f"socket://{parts.netloc}")
    if scheme == "sil":
        return SilLink(url, options)
    if scheme in ("socket", "loop", "rfc2217", "spy", "alt", "hwgrep"):
        return SerialLink(url, url)
    if scheme == "mqtt":
        raise LinkError("mqtt:// links are not available in this version yet")
    raise LinkError(
        f"unknown link {url!r}: use serial:///dev/ttyACM0, tcp://host:port, "
        "file://capture.bin or sil://"
    )


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
