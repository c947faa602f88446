"""Vehicle keys and the anti-replay counter on the ground.

Each vehicle has one secret key that signs its telecommands (HMAC-SHA256). The ground keeps
it in a key file outside the repository, ``~/.config/lander/keys/<vehicle>.key`` (folder
``$LANDER_KEY_DIR`` when set), created with mode 0600 on first use and refused when others
may read it, as ssh does. The same key is provisioned on the vehicle with its firmware. The
key is never printed or logged: :class:`VehicleKey` hides it from ``repr``.

Next to it, ``<vehicle>.counter`` holds the last anti-replay counter the ground used; every
telecommand takes the next one, under a file lock so two ground tools never use the same.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from schemas import wire

from .errors import UsageError

__all__ = [
    "DEFAULT_VEHICLE",
    "KeyFileError",
    "VehicleKey",
    "CounterSource",
    "CounterFile",
    "MemoryCounter",
    "CounterExhausted",
    "free_key_id",
    "new_key",
    "key_dir",
    "load_key",
    "write_key",
]

KEY_LEN = 32
DEFAULT_VEHICLE = "LANDER-1"  # the firmware's default config.json "vehicle"
_VEHICLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KeyFileError(UsageError):
    """A key or counter file is missing, unreadable, malformed or too open; one line."""


class CounterExhausted(KeyFileError):
    """Every counter of this key is spent: only a new key (and its new counters) helps."""


@dataclass(frozen=True)
class VehicleKey:
    """A vehicle's telecommand key: its id (sent in every TC) and the secret (never sent)."""

    vehicle: str
    key_id: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 0xFFFF:
            raise KeyFileError(f"key id {self.key_id} outside 0..65535")
        if len(self.secret) < 16:
            raise KeyFileError("a key needs at least 16 octets")

    @classmethod
    def generate(cls, vehicle: str, key_id: int) -> VehicleKey:
        return cls(vehicle, key_id, secrets.token_bytes(KEY_LEN))


def free_key_id(folder: Path) -> int:
    """A random key id (1..65535) that no key file in ``folder`` uses: every vehicle gets its
    own, so a command signed for one is refused by another as UNKNOWN_KEY, not BAD_MAC."""
    used = set()
    for other in folder.glob("*.key*") if folder.is_dir() else ():  # *.key.old too
        try:
            used.add(int(json.loads(other.read_text("utf-8"))["key_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    while True:
        key_id = secrets.randbelow(0xFFFF) + 1
        if key_id not in used:
            return key_id


def key_dir() -> Path:
    """Where the ground keeps key files: $LANDER_KEY_DIR, else ~/.config/lander/keys."""
    if env := os.environ.get("LANDER_KEY_DIR"):
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "lander" / "keys"


def _check_vehicle(vehicle: str) -> None:
    if not _VEHICLE.match(vehicle):
        raise KeyFileError(f"vehicle name {vehicle!r} must be letters, digits, '-', '_' or '.'")


def load_key(vehicle: str, path: Path | None = None, *, create: bool = True) -> VehicleKey:
    """The vehicle's key from ``path``, else from its key file in :func:`key_dir`, made
    (mode 0600, a key id of its own) on first use when ``create``."""
    _check_vehicle(vehicle)
    if path is not None and not path.exists():  # a key named is used, never made
        raise KeyFileError(f"no key file {path}: name an existing key file")
    path = path if path is not None else key_dir() / f"{vehicle}.key"
    if not path.exists():
        if not create:
            raise KeyFileError(f"no key file {path}: provision the vehicle's key there first")
        return _create(vehicle, path)
    mode = path.stat().st_mode
    if mode & 0o077:
        raise KeyFileError(f"key file {path} is open to other users: chmod 600 {path}")
    try:
        doc = json.loads(path.read_text("utf-8"))
        return VehicleKey(str(doc["vehicle"]), int(doc["key_id"]), bytes.fromhex(doc["key"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise KeyFileError(f"key file {path} is unreadable or malformed") from None


def _create(vehicle: str, path: Path) -> VehicleKey:
    key = VehicleKey.generate(vehicle, free_key_id(path.parent))
    try:
        write_key(key, path)
    except FileExistsError:  # another tool made it first: use theirs
        return load_key(vehicle, path, create=False)
    return key


def new_key(vehicle: str) -> VehicleKey:
    """Replace the vehicle's key in :func:`key_dir` with a new one (a new key id) and start
    its counter again; the old key file is kept as ``<vehicle>.key.old``. The vehicle starts
    a new counter too once it holds the new key (its counter belongs to a key id)."""
    _check_vehicle(vehicle)
    path = key_dir() / f"{vehicle}.key"
    key = VehicleKey.generate(vehicle, free_key_id(path.parent))
    staged = path.with_name(f"{vehicle}.key.new")
    staged.unlink(missing_ok=True)
    write_key(key, staged)
    try:
        if path.exists():
            os.replace(path, path.with_name(f"{vehicle}.key.old"))
        os.replace(staged, path)
        path.with_name(f"{vehicle}.counter").unlink(missing_ok=True)
    except OSError as exc:
        raise KeyFileError(f"cannot replace key file {path}: {exc.strerror}") from None
    return key


def write_key(key: VehicleKey, path: Path) -> None:
    """Write a key file (mode 0600, folder 0700); FileExistsError if there is one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {"vehicle": key.vehicle, "key_id": key.key_id, "key": key.secret.hex()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise  # the caller decides: use it, or refuse to overwrite a key
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
        f.write("\n")


class CounterSource(Protocol):
    """Where a commander takes anti-replay counters from."""

    def reserve(self) -> int:
        """The counter for the next telecommand (above every one handed out before)."""
        ...

    def observe(self, vehicle_counter: int) -> None:
        """The vehicle reports this as its last accepted counter: never hand out less."""
        ...


class MemoryCounter:
    """Counters held in memory (tests, or a tool that reads the vehicle's first)."""

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def reserve(self) -> int:
        self.last = _next(self.last)
        return self.last

    def observe(self, vehicle_counter: int) -> None:
        self.last = max(self.last, vehicle_counter)


class CounterFile:
    """Counters persisted in a file, locked while one is taken, written by rename."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_vehicle(cls, vehicle: str) -> CounterFile:
        _check_vehicle(vehicle)
        return cls(key_dir() / f"{vehicle}.counter")

    def reserve(self) -> int:
        return self._update(_next)

    def observe(self, vehicle_counter: int) -> None:
        self._update(lambda last: max(last, vehicle_counter))

    @property
    def last(self) -> int:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise KeyFileError(f"cannot read counter file {self.path}: {exc.strerror}") from None
        try:
            value = int(text or 0)
        except ValueError:
            value = -1
        if not 0 <= value <= wire.MAX_COUNTER:
            raise KeyFileError(
                f"counter file {self.path} is malformed (it must hold the last counter used, "
                f"0 to {wire.MAX_COUNTER}): delete it and the ground learns the vehicle's from HK"
            )
        return value

    def _update(self, step: Callable[[int], int]) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(self.path.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                value = step(self.last)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(f"{value}\n")
                os.replace(tmp, self.path)
                return value
        except OSError as exc:
            raise KeyFileError(f"cannot update {self.path}: {exc.strerror}") from None


def _next(last: int) -> int:
    if last >= wire.MAX_COUNTER:
        raise CounterExhausted(
            "the anti-replay counter is exhausted: put a new key on the vehicle "
            "(lander flash --new-key), which starts the ground's and the vehicle's counters again"
        )
    return last + 1
