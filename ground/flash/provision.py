"""Provision: what a vehicle needs on its flash besides the firmware.

`config.json` (vehicle id, telemetry rates, the telecommand key's id, any other setting the
firmware reads) and the vehicle's telecommand key (`tc.key`, the ground's key for the vehicle,
the one `lander cmd` signs with). Both are files of the image like the
firmware's, so they are compared, copied and verified by SHA-256 the same way. The JSON is
written with sorted keys: the same options give the same bytes, and an unchanged config is
not copied again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ground import keys
from ground.firmware import CONFIG_FILE, KEY_FILE
from schemas import model

from .errors import FlashError

__all__ = ["CONFIG_FILE", "DEFAULT_VEHICLE", "MAX_RATE_HZ", "Provision", "vehicle_key"]

DEFAULT_VEHICLE = keys.DEFAULT_VEHICLE
MAX_RATE_HZ = 50.0  # the firmware's control cycle is 20 ms: nothing is sent faster
RESERVED = ("vehicle", "rates", "key_id")  # set by their own options


@dataclass(frozen=True)
class BoardKey:
    """The telecommand key to put on the board: its file name there, id and secret."""

    name: str
    key_id: int
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Provision:
    """A vehicle's configuration, as `lander flash` options give it."""

    vehicle: str = DEFAULT_VEHICLE
    rates: dict[str, float] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)
    key: BoardKey | None = None
    #: makes or loads ``key`` once a board has answered (no key is made for no board)
    key_source: Callable[[], BoardKey] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        names = [p.name for p in model.load()]
        for name, hz in self.rates.items():
            if name not in names:
                raise FlashError(f"--rate {name}: no such packet (packets: {', '.join(names)})")
            if not 0 <= hz <= MAX_RATE_HZ:
                raise FlashError(f"--rate {name}={hz:g}: give 0 (off) to {MAX_RATE_HZ:g} Hz")
            if name == "HK" and hz == 0:
                raise FlashError(
                    "--rate HK=0: HK never stops (the ground learns the counter from it)"
                )
        for key in self.settings:
            if key in RESERVED:
                raise FlashError(f"--set {key}: use --{key.replace('_', '-')} for that")

    def keyed(self) -> Provision:
        """This provision with its key, from ``key_source`` if it has none yet."""
        if self.key is not None or self.key_source is None:
            return self
        return replace(self, key=self.key_source(), key_source=None)

    def config(self) -> dict[str, object]:
        config: dict[str, object] = {**self.settings, "vehicle": self.vehicle}
        if self.rates:
            config["rates"] = dict(self.rates)
        if self.key is not None:
            config["key_id"] = self.key.key_id
        return config

    def files(self) -> dict[str, bytes]:
        """The files this provision puts on the board."""
        text = json.dumps(self.config(), sort_keys=True, separators=(",", ":")) + "\n"
        files = {CONFIG_FILE: text.encode()}
        if self.key is not None:
            files[self.key.name] = self.key.secret
        return files

    @property
    def secrets(self) -> frozenset[str]:
        """Files whose bytes are never shown."""
        return frozenset([self.key.name] if self.key is not None else [])


def vehicle_key(vehicle: str, path: Path | None = None) -> BoardKey:
    """The vehicle's telecommand key: from ``path``, else the ground's key file for the
    vehicle, made (mode 0600) on first use, as a virtual board gets one (ground.keys)."""
    try:
        key = keys.load_key(vehicle, path, create=path is None)
    except keys.KeyFileError as exc:
        raise FlashError(str(exc)) from None
    return BoardKey(KEY_FILE, key.key_id, key.secret)
