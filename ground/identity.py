"""Which vehicle, boot, firmware build and dictionary a stream of telemetry comes from.

The firmware sends an IDENT packet first at every boot and then every 10 s (see
``firmware/identity.py``). :class:`IdentityWatch` follows them, sans-I/O: every packet after
an IDENT belongs to that identity, so a bus or an archive stamps packets with
:attr:`IdentityWatch.current`, and the watch says once, in one line, when a vehicle sends
telemetry made with a dictionary that is not this ground's (its values may then be decoded
wrongly). :func:`build_id` computes a firmware build's id as the vehicle does, from the
modules the flasher deploys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas import fingerprint

__all__ = ["IDENT", "Identity", "IdentityWatch", "build_id", "from_packet"]

#: The telemetry packet that carries the identity.
IDENT = "IDENT"


@dataclass(frozen=True)
class Identity:
    """One boot of one vehicle: its id, boot count, firmware build, dictionary, key id."""

    vehicle: str
    boot: int
    firmware: str  # 8 hex digits
    dictionary: str  # 8 hex digits
    key_id: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "vehicle": self.vehicle,
            "boot": self.boot,
            "firmware": self.firmware,
            "dictionary": self.dictionary,
            "key_id": self.key_id,
        }

    def __str__(self) -> str:
        return (
            f"{self.vehicle or '?'} boot {self.boot} firmware {self.firmware} "
            f"dictionary {self.dictionary}"
        )


def from_packet(packet: Any) -> Identity | None:
    """The identity an IDENT packet carries; None for any other packet."""
    if packet.name != IDENT:
        return None
    v = packet.values
    return Identity(
        vehicle=str(v["vehicle"]),
        boot=int(v["boot"]),
        firmware=fingerprint.id_text(int(v["firmware"])),
        dictionary=fingerprint.id_text(int(v["dictionary"])),
        key_id=int(v["key_id"]),
    )


class IdentityWatch:
    """Follows IDENT packets; warns once per vehicle and foreign dictionary."""

    def __init__(self, own_dictionary: str | None = None) -> None:
        self.own_dictionary = own_dictionary or fingerprint.id_text(fingerprint.dictionary_id())
        #: the identity of the packets seen since the last IDENT (None before the first)
        self.current: Identity | None = None
        self._warned: set[tuple[str, str]] = set()
        self._pending: list[str] = []

    def observe(self, packets: Iterable[Any]) -> None:
        """Take packets in order; IDENT packets update :attr:`current`."""
        for packet in packets:
            identity = from_packet(packet)
            if identity is None:
                continue
            self.current = identity
            key = (identity.vehicle, identity.dictionary)
            if identity.dictionary != self.own_dictionary and key not in self._warned:
                self._warned.add(key)
                self._pending.append(self.mismatch(identity))

    def mismatch(self, identity: Identity) -> str:
        return (
            f"vehicle {identity.vehicle or '?'} (boot {identity.boot}) sends telemetry of "
            f"dictionary {identity.dictionary}, this ground's is {self.own_dictionary}: "
            "values may be decoded wrongly; flash the vehicle with this ground's firmware "
            "(lander flash) or decode with the ground that matches it"
        )

    def take_warnings(self) -> list[str]:
        """Warnings not yet shown (each is shown once)."""
        out, self._pending = self._pending, []
        return out


def build_id(modules: Mapping[str, bytes]) -> str:
    """A firmware build's id as the vehicle reports it (IDENT.firmware), from the modules
    on its flash by name: SHA-256 over (name, NUL, content) in name order, first 32 bits."""
    h = hashlib.sha256()
    for name in sorted(n for n in modules if n.endswith((".py", ".mpy"))):
        h.update(name.encode() + b"\0")
        h.update(modules[name])
    return h.hexdigest()[:8]
