"""A link that drops and comes back (a board on a TCP serial server that goes away), with
the console headless: LINK LOST shown at once, the console usable meanwhile, then BACK and
fresh values, with no restart."""

from __future__ import annotations

import socket
import threading

from ground.console.app import ConsoleApp
from ground.console.source import TelemetryBus

from .consolefeed import NOMINAL, frame
from .consolepilot import run, screen_text, wait_for


class TelemetryServer:
    """Serves HK frames at 20 Hz to one TCP client at a time, on 127.0.0.1; ``drop()`` closes
    the connection and stops listening, ``listen()`` listens again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.stop = threading.Event()
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
            try:
                client.sendall(frame("HK", self.sent & 0x3FFF, self.sent * 0.05, **NOMINAL["HK"]))
            except OSError:
                return
            self.sent += 1

    def drop(self) -> None:
        for s in (self._client, self._server):
            if s is not None:
                s.close()
        self._client = self._server = None

    def close(self) -> None:
        self.stop.set()
        self.drop()


def test_a_dropped_link_is_shown_and_comes_back():
    server = TelemetryServer()
    bus = TelemetryBus(f"tcp://127.0.0.1:{server.port}", backoff=(0.1, 0.5))
    app = ConsoleApp(bus, vehicle="LANDER-1")
    hk = app.state.parameters.packets["HK"]

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            bus.start()
            await wait_for(pilot, lambda: hk.count > 5, what="telemetry")
            server.drop()
            await wait_for(pilot, lambda: "LINK LOST" in screen_text(app), what="LINK LOST")
            await pilot.press("f4")  # still answering keys
            await wait_for(pilot, lambda: app.tabs.active == "events")
            seen = hk.count
            server.listen()
            await wait_for(pilot, lambda: "BACK" in screen_text(app), what="BACK")
            await wait_for(pilot, lambda: hk.count > seen + 5, what="fresh telemetry")
            assert app.state.link.drops == 1 and app.is_running

    try:
        run(session())
    finally:
        bus.close()
        server.close()
