"""Targets: the vehicle a campaign runs against, named by a link URL.

``sil://`` (the default) is a virtual board: the firmware in the real MicroPython VM behind
a pty, one per pytest worker, its flash in a temporary folder. Between tests it is given the
next test's ``config.json`` and hard-reset, which costs a boot rather than a new board.

``serial:///dev/ttyACM0`` (any pyserial port) is a real board. With ``--flash`` the session
first puts the firmware on it (``lander flash``); a test that needs another ``config.json``
(a scenario's terrain) gets it the same way, only that file being copied. Its resets are the
``RESET`` telecommand, so the firmware must be running and hold the ground's key.

``silicon://`` is a silicon board (sil/silicon/): MicroPython's rp2 port on an emulated
RP2040, one per pytest worker, started from the image `lander flash` made with the ground's
key for the vehicle (cached per firmware: only the first session pays for flashing). Each
test's ``config.json`` goes on through its port as on a board (only that file copied), and
its resets are the RUN button. ``silicon://?flash=FILE`` is one board kept in FILE.

Every target gives the same three things: ``prepare(config)`` for the next boot, ``open()``
a link for the ground, and ``reset(vehicle)``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from ground.decoder import TelemetryDecoder
from ground.errors import UsageError
from ground.keys import (
    DEFAULT_VEHICLE,
    CounterFile,
    CounterSource,
    KeyFileError,
    MemoryCounter,
    VehicleKey,
    key_dir,
    load_key,
)
from ground.links import Link, SerialLink
from sil.board import BoardError, VirtualBoard
from sil.firmware import KEY_FILE, install_sources

from .procedures import Vehicle

__all__ = [
    "NeedsFlash",
    "SerialTarget",
    "SiliconTarget",
    "Target",
    "VirtualTarget",
    "check_target",
    "open_target",
]

CONFIG_FILE = "config.json"


class NeedsFlash(UsageError):
    """A test needs a config.json the board does not hold, and --flash was not given."""


class Target(Protocol):
    url: str
    key: VehicleKey
    counter: CounterSource
    #: default time warp: as fast as it goes on a virtual board, real time on a board
    time_warp: float

    def prepare(self, config: dict[str, Any]) -> None:
        """Make ``config`` the config.json the vehicle boots with next."""
        ...

    def open(self) -> Link:
        """A link to the vehicle for the ground (closed by the caller)."""
        ...

    def reset(self, vehicle: Vehicle) -> None:
        """Hard-reset the vehicle: it boots again with the prepared config."""
        ...

    def close(self) -> None: ...


class VirtualTarget:
    """A virtual board of its own, in a temporary folder removed on close."""

    time_warp = 10000.0

    def __init__(self, vehicle: str = DEFAULT_VEHICLE) -> None:
        self.url = "sil://"
        self.key = VehicleKey(vehicle, 1, os.urandom(32))
        self.counter: CounterSource = MemoryCounter()
        self._tmp = tempfile.mkdtemp(prefix="lander-hil-")
        self.flash = Path(self._tmp) / "flash"
        install_sources(self.flash, {"vehicle": vehicle, "key_id": 1}, key=self.key.secret)
        self.board: VirtualBoard | None = None
        try:
            # Its one reader is this harness's ground, which decodes as it reads: on a loaded
            # host an 18 KB gulp can take it more than the 500 ms after which a Pico's USB
            # stack drops what waits, and the board would then drop hundreds of packets at
            # once (a Pico loses one write). Here the firmware waits for its ground instead:
            # what a test loses on the link is what it injects (link_faults), nothing else.
            self.board = VirtualBoard(self.flash, tx_timeout=None).start()
        except BaseException:
            self.close()
            raise
        self.url = f"serial://{self.board.port}"
        self._wait_for_firmware()

    def _wait_for_firmware(self, timeout: float = 30.0) -> None:
        """Return once this boot's BOOT event and first housekeeping have been read off the
        port. The port keeps what its reader did not take: a BOOT left unread would reach
        the first test's ground, which would take it for its own reset's boot and command a
        firmware that has not yet turned Ctrl-C off (a 0x03 in a frame would then stop it)."""
        link = self.open()
        decoder = TelemetryDecoder()
        booted = False
        end = time.monotonic() + timeout
        try:
            while True:
                for packet in decoder.feed(link.read(0.1)):
                    if packet.name == "EVENT" and packet.values["event_id"] == "BOOT":
                        booted = True
                    elif booted and packet.name == "HK":
                        return
                if time.monotonic() > end:
                    self.close()
                    raise BoardError(
                        f"the virtual board sent no BOOT event and housekeeping within "
                        f"{timeout:g} s"
                    )
        finally:
            link.close()

    def prepare(self, config: dict[str, Any]) -> None:
        config = {**config, "vehicle": self.key.vehicle, "key_id": self.key.key_id}
        (self.flash / CONFIG_FILE).write_text(json.dumps(config) + "\n")

    def open(self) -> Link:
        assert self.board is not None
        return SerialLink(self.url, self.board.port)

    def reset(self, vehicle: Vehicle) -> None:
        assert self.board is not None
        self.board.reset(hard=True)

    def close(self) -> None:
        if self.board is not None:
            self.board.stop()
            self.board = None
        shutil.rmtree(self._tmp, ignore_errors=True)


class SerialTarget:
    """A real board on a serial port (or a virtual one's pty), flashed with ``flash=True``."""

    time_warp = 1.0

    def __init__(self, url: str, *, flash: bool = False, vehicle: str | None = None) -> None:
        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.url = url
        self.port = unquote(parts.netloc + parts.path)
        self.baud = int(options.get("baud", 115200))
        name = vehicle or options.get("vehicle", DEFAULT_VEHICLE)
        self.key = load_key(name)
        self.counter: CounterSource = CounterFile.for_vehicle(name)
        self.may_flash = flash
        self._config: dict[str, Any] | None = None

    def prepare(self, config: dict[str, Any]) -> None:
        if config == self._config:
            return
        if not self.may_flash:
            if self._config is None:
                self._config = config  # what the board holds is the caller's business
                return
            raise UsageError("this test needs another config.json on the board: run with --flash")
        self._flash(config)
        self._config = config

    def _flash(self, config: dict[str, Any]) -> None:
        import io

        from ground.flash.build import build_firmware
        from ground.flash.deploy import flash
        from ground.flash.errors import FlashError
        from ground.flash.progress import Progress
        from ground.flash.provision import BoardKey, Provision
        from sil.firmware import firmware_files

        settings = {k: v for k, v in config.items() if k not in ("vehicle", "rates", "key_id")}
        key = BoardKey(KEY_FILE, self.key.key_id, self.key.secret)
        provision = Provision(self.key.vehicle, dict(config.get("rates", {})), settings, key)
        sources = firmware_files()
        try:
            flash(
                self.port,
                sources,
                provision,
                Progress(io.StringIO(), tty=False),
                build=build_firmware(sources),
            )
        except FlashError as exc:
            raise UsageError(f"cannot flash {self.port}: {exc}") from None

    def open(self) -> Link:
        return SerialLink(self.url, self.port, self.baud)

    def reset(self, vehicle: Vehicle) -> None:
        vehicle.send("RESET", confirm=True)

    def close(self) -> None:
        pass


class SiliconTarget(SerialTarget):
    """A silicon board of its own, flashed by `lander flash` (see the module's docstring)."""

    time_warp = 10000.0  # as fast as the emulated Pico runs
    #: s from the RUN button to the firmware's first housekeeping: an emulated Pico on a busy
    #: machine takes 20-30 s to import the firmware and build the flight model
    boot_timeout = 120.0

    def __init__(self, url: str = "silicon://") -> None:
        from sil.silicon import ImageError, SiliconBoard, SiliconError
        from sil.silicon.flashed import flashed_image

        options = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        vehicle = options.get("vehicle", DEFAULT_VEHICLE)
        self._tmp: str | None = None
        given = options.get("flash")
        self.board: SiliconBoard | None = None
        try:
            key = load_key(vehicle)  # the ground's key, made on first use
            if given:
                flash = Path(given)
            else:
                self._tmp = tempfile.mkdtemp(prefix="lander-hil-silicon-")
                flash = Path(self._tmp) / "pico.flash"
            if not flash.exists():
                image = flashed_image(key_dir() / f"{vehicle}.key", {"vehicle": vehicle})
                flash.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(image, flash)
            self.board = SiliconBoard(flash).start()
        except (SiliconError, ImageError, KeyFileError, OSError) as exc:
            self.close()
            why = str(exc).splitlines()[0]
            raise UsageError(f"the silicon board did not start: {why}") from None
        except BaseException:
            self.close()
            raise
        super().__init__(f"serial://{self.board.port}", flash=True, vehicle=vehicle)
        self.url = url
        self.key = key

    def reset(self, vehicle: Vehicle) -> None:
        assert self.board is not None
        self.board.reset()  # the RUN button

    def close(self) -> None:
        if self.board is not None:
            self.board.stop()
            self.board = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def check_target(url: str | None, *, flash: bool = False) -> str:
    """The kind of target a ``--target`` URL names ("sil", "silicon" or "serial"), or
    UsageError."""
    if url is None or url.startswith("sil:") or url.startswith("silicon:"):
        if flash:
            raise UsageError(
                "--flash is for a board (--target serial://...); "
                "a virtual board gets the firmware by itself"
            )
        return "silicon" if url is not None and url.startswith("silicon:") else "sil"
    if url.startswith("serial:") or "://" not in url:
        return "serial"
    if url.startswith("mqtt:"):
        raise UsageError("--target mqtt:// needs the ground segment, which this version lacks")
    raise UsageError(
        f"--target {url}: give sil:// (a virtual board) or serial:///dev/ttyACM0 "
        "(or silicon://, an emulated Pico)"
    )


def open_target(url: str | None, *, flash: bool = False) -> Target:
    """The target a ``--target`` URL names (None or ``sil://``: a virtual board)."""
    kind = check_target(url, flash=flash)
    if kind == "sil":
        return VirtualTarget()
    if kind == "silicon":
        assert url is not None
        return SiliconTarget(url)
    assert url is not None
    return SerialTarget(url if "://" in url else f"serial://{url}", flash=flash)
