"""Telemetry for console tests: packets made the reference way (Construct), decoded by the
ground's decoder, and bus events carrying them at chosen ground times."""

from __future__ import annotations

import socket
import threading
from typing import Any

from ground.console.source import LinkState, Received
from ground.decoder import Packet, TelemetryDecoder

from . import tmgen

URL = "file://test.bin"


def frame(name: str, seq: int = 0, t: float = 0.0, **raw: Any) -> bytes:
    """One frame of packet ``name`` at vehicle time ``t`` with raw field values by name."""
    coarse = int(t)
    fine = int(round((t - coarse) * 65536)) & 0xFFFF
    body = {"name": name, "seq": seq, "coarse": coarse, "fine": fine}
    return tmgen.frame(tmgen.build({**body, "values": tmgen.values(name, **raw)}))


_DECODER = TelemetryDecoder()


def packet(name: str, seq: int = 0, t: float = 0.0, **raw: Any) -> Packet:
    (decoded,) = _DECODER.feed(frame(name, seq, t, **raw))
    return decoded


def received(name: str, ground_time: float, seq: int = 0, t: float = 0.0, **raw: Any) -> Received:
    return Received(packet(name, seq, t, **raw), ground_time, URL)


def link(state: str, ground_time: float, reason: str = "") -> LinkState:
    return LinkState(state, URL, ground_time, reason)


#: Raw values of a vehicle in braking, every field in limits.
NOMINAL = {
    "HK": {"mode": 1, "phase": 3, "heap_free": 60000, "board_temp": 14000},
    "NAV": {
        "altitude": 9000.0,
        "lrf_range": 9100.0,
        "lrf_valid": 1,
        "q_w": 1.0,
        "vel_vertical": -40.0,
        "alt_sigma": 12.0,
    },
    "PROP": {
        "fuel_pressure": 36000,
        "ox_pressure": 36000,
        "fuel_temp": 2000,
        "ox_temp": 2000,
        "propellant_mass": 250.0,
        "throttle": 650,
        "thrust": 2000.0,
        "engine": 1,
        "pressurant_pressure": 13000,
    },
    "POWER": {"battery_voltage": 31000, "battery_current": 500, "state_of_charge": 90},
}


#: Ground time of the start of the descents below (2026-11-30 09:00:00 UTC).
T0 = 1796029200.0


def descent(seconds: float, leak_at: float | None = None) -> list:
    """Bus events of a made-up braking phase: NAV at 10 Hz, PROP at 2 Hz, HK and POWER at
    1 Hz, a few events; with ``leak_at``, propellant falls 0.5 kg/s with the engine off from
    then on and fault protection latches PROP_LEAK."""
    out = [link("up", T0)]
    seqs: dict[str, int] = {}
    propellant = 260.0
    for tick in range(int(seconds * 10) + 1):
        t = tick / 10
        leaking = leak_at is not None and t >= leak_at
        due = (
            ["NAV"]
            + (["PROP"] if tick % 5 == 0 else [])
            + (["HK", "POWER"] if tick % 10 == 0 else [])
        )
        propellant -= 0.05 if leaking else 0.12
        for name in due:
            raw = dict(NOMINAL[name])
            if name == "NAV":
                raw.update(
                    altitude=9000.0 - 45.0 * t,
                    lrf_range=9030.0 - 45.0 * t,
                    vel_vertical=-45.0 + 0.2 * t,
                    vel_horizontal=310.0 - 4.0 * t,
                    rate_x=2.0 * ((tick % 7) - 3) / 3,
                    nav_mode=1,
                    guidance_mode=1,
                )
            elif name == "PROP":
                raw.update(
                    propellant_mass=propellant,
                    engine=0 if leaking else 1,
                    throttle=0 if leaking else 650,
                    thrust=0.0 if leaking else 2000.0,
                )
            elif name == "HK":
                raw.update(uptime=int(100 + t), fdir_flags=32 if leaking else 0)
            seq = seqs.get(name, 0)
            seqs[name] = seq + 1
            out.append(received(name, T0 + t, seq, 100.0 + t, **raw))
    events = [
        (0.0, dict(event_id=2, severity=0, arg1=2, arg2=3, arg3=6)),
        (seconds * 0.4, dict(event_id=23, severity=1, arg1=3)),
    ]
    if leak_at is not None:
        events.append((leak_at + 2, dict(event_id=24, severity=2, arg1=5000, response=5)))
    for i, (t, raw) in enumerate(events):
        out.append(received("EVENT", T0 + t, i, 100.0 + t, **raw))
    out.sort(key=lambda e: getattr(e, "ground_time", 0.0))
    return out


class TelemetryServer:
    """Serves frames of one packet (HK unless told, with ``raw`` values over the nominal
    ones) at 20 Hz to one TCP client at a time, on
    127.0.0.1, nominal values (NAV's altitude falls 1 m a frame); ``drop()`` closes the
    connection and stops listening, ``listen()`` listens again on the same port; ``quiet``
    keeps the connection and sends nothing while set."""

    def __init__(self, packet: str = "HK", **raw: Any) -> None:
        self.packet = packet
        self.raw = raw  # raw values over the nominal ones
        self.port = 0
        self.stop = threading.Event()
        #: set: the connection stays open and nothing is sent (a hung flight computer)
        self.quiet = threading.Event()
        self.sent = 0
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self.listen()

    def listen(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(1)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._serve, args=(server,), daemon=True).start()

    def _serve(self, server: socket.socket) -> None:
        try:
            client, _ = server.accept()
        except OSError:
            return
        self._client = client
        while not self.stop.wait(0.05):
            if self.quiet.is_set():
                continue
            try:
                client.sendall(self._frame())
            except OSError:
                return
            self.sent += 1

    def _frame(self) -> bytes:
        raw = {**NOMINAL.get(self.packet, {}), **self.raw}
        if self.packet == "NAV":
            raw["altitude"] = 9000.0 - self.sent
        return frame(self.packet, self.sent & 0x3FFF, self.sent * 0.05, **raw)

    def drop(self) -> None:
        for s in (self._client, self._server):
            if s is not None:
                s.close()
        self._client = self._server = None

    def close(self) -> None:
        self.stop.set()
        self.drop()
