"""Debian's mosquitto on a free loopback port, started and stopped by its user (bench, tests).

``Mosquitto(folder)`` runs the broker with a configuration of its own (anonymous allowed on
one loopback listener) or the text given as ``conf``; ``restart()`` brings it back on the
same port (a broker outage), ``persistent=True`` keeps sessions and queued messages across
it. ``mosquitto(folder)`` is the same as a ``with`` block yielding ``mqtt://127.0.0.1:PORT``.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["MOSQUITTO", "Mosquitto", "available", "free_port", "mosquitto", "wait_listening"]

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def available() -> bool:
    return Path(MOSQUITTO).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_listening(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not listening(port):
        if time.monotonic() > end:
            raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.05)


class Mosquitto:
    """One mosquitto process and its scratch folder (configuration, log, persistence)."""

    def __init__(
        self,
        folder: Path,
        conf: str | None = None,
        *,
        port: int | None = None,
        persistent: bool = False,
        tuning: str = "",
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port or free_port()
        text = (
            conf if conf is not None else f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        )
        # as root mosquitto would drop to user `mosquitto`, who cannot read our files;
        # max_queued_messages 0: a subscriber's queue is never cut short
        text += f"\nuser {getpass.getuser()}\nlog_dest stderr\nmax_queued_messages 0\n"
        text += (
            f"persistence true\npersistence_location {folder}/\n"
            if persistent
            else "persistence false\n"
        )
        self.conf_file = folder / "mosquitto.conf"
        self.conf_file.write_text(text + tuning)
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.conf_file)], stdout=log, stderr=subprocess.STDOUT
            )
        end = time.monotonic() + 30
        while not listening(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()}")
            if time.monotonic() > end:
                raise TimeoutError(f"mosquitto on port {self.port}: {self.log.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


@contextmanager
def mosquitto(folder: Path, port: int | None = None, tuning: str = "") -> Iterator[str]:
    """Runs mosquitto until the block ends; yields mqtt://127.0.0.1:PORT."""
    broker = Mosquitto(folder, port=port, tuning=tuning)
    try:
        yield broker.url
    finally:
        broker.stop()
