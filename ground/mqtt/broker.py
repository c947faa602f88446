"""The embedded broker: amqtt on loopback, in a thread of ``lander ground``'s own process.

For a bench or a demo it needs nothing installed; anonymous clients are let in, and only
from this machine (it binds 127.0.0.1). Anything more goes to mosquitto or a cluster
(``--broker``), with accounts and ACLs: the topics are the same.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

from ..links import LinkError

__all__ = ["EmbeddedBroker"]


class EmbeddedBroker:
    """``start()`` listens on ``host:port`` (port 0: a free one), ``stop()`` ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        if self.port == 0:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = s.getsockname()[1]
        else:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the broker will
                try:
                    s.bind((self.host, self.port))
                except OSError:
                    raise LinkError(
                        f"{self.host}:{self.port} is taken (another broker?): pass "
                        f"--broker mqtt://{self.host}:{self.port} to use it, or --listen PORT"
                    ) from None
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        ready = threading.Event()
        failed: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failed), name="embedded broker", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failed:
            raise LinkError(f"the embedded broker did not start: {failed[0]}")
        return self

    def _run(self, ready: threading.Event, failed: list[BaseException]) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        try:
            self._broker = Broker(config, loop=loop)
            loop.run_until_complete(self._broker.start())
        except BaseException as exc:  # noqa: BLE001 (told to the starting thread)
            failed.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._broker.shutdown())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
