# The vehicle on the ground segment's MQTT bus, with no bridge: a Pico W over WiFi, or the
# virtual board over the host's sockets.
#
# config.json "mqtt": {"broker": host, "port": 1883, "user": ..., "password": ...,
# "qos": 0 | 1, "keepalive": 10, "ca": "ca.der"} ("wifi": {"ssid", "password"} on a Pico W,
# see hal.py). With "ca", the authority's certificate (PEM text, or the name of a file on
# the flash that holds it, DER or PEM: a file keeps it out of the heap), the link is MQTT
# over TLS (port 8883 by default), the broker's certificate checked against that authority
# and the broker's name. The TLS context is built at the first connection, not at boot.
# On a Pico W mbedtls takes its buffers from the MicroPython heap during the handshake and
# the session (16 KB in, 4 KB out, and the handshake's own), so TLS needs about 30 KB free
# with a 17 KB block in one piece (the unix port's mbedtls uses the C heap: the virtual
# board cannot show it).
# Topics under lander/<vehicle>/ (DESIGN.md, "Ground segment"):
#   tm      every telemetry packet, raw (CRC included, never framed), as the serial port
#           also gets it framed;
#   tc      telecommands in, raw: they go to the same checks as a serial frame (length, CRC,
#           key, MAC, anti-replay counter), so a command replayed onto tc is refused REPLAY;
#   status  "online" (retained) once connected, "offline" by the broker's last will.
# Telemetry goes through a backlog of "backlog" packets (default 32, backlog.py),
# preallocated once the flight model has its room: while the broker is away packets wait
# there, the oldest dropped and counted (backlog.lost) when the outage outlasts it, and on
# reconnection they go out first, in order, then the live ones; at QoS 1 a packet leaves
# only once acknowledged. The broker is tried again with backoff, 1 s doubling up to 30 s;
# the serial port carries telemetry throughout. Nothing here allocates per packet.
import time

import hal
from backlog import Backlog
from micropython import const
from mqtt import MQTTClient, MQTTException

_FIRST_MS = const(1000)
_LONGEST_MS = const(30000)


class MqttLink:
    def __init__(self, cfg, vehicle, on_packet):
        m = cfg["mqtt"]
        self.cfg = cfg
        self.on_packet = on_packet
        self.qos = 1 if m.get("qos", 0) else 0
        self.keepalive = int(m.get("keepalive", 10))
        prefix = "lander/%s/" % vehicle
        self.tm = (prefix + "tm").encode()
        self.tc = (prefix + "tc").encode()
        self.status = (prefix + "status").encode()
        self.ca = m.get("ca")
        c = self.client = MQTTClient(
            "lander-" + vehicle, m["broker"], int(m.get("port", 0)) or (8883 if self.ca else 1883),
            m.get("user"), m.get("password"), self.keepalive,
        )
        c.set_last_will(self.status, b"offline", True, 1)
        c.set_callback(self._message)
        self.up = False
        self.sent = 0  # packets written to the broker
        self.backlog = Backlog(int(m.get("backlog", 32)))  # allocate() gives it its room
        self._acked = 0  # the client's PUBACK count the backlog is released against
        self.connects = 0
        self.refused = 0  # the broker's last CONNACK refusal (4: bad login, 5: not authorized)
        self.backoff = _FIRST_MS
        self.next_try = time.ticks_ms()
        self.next_ping = 0

    def allocate(self):
        # The backlog's room, once the flight model has its own (App calls this).
        self.backlog.allocate()

    def send(self, pkt, n):
        # One telemetry packet pkt[0:n]: to the broker, through the backlog; no allocation.
        b = self.backlog
        if self.up and b.count:
            self._drain()  # what waits goes first, and makes room
        if self.up and not b.count and not self.qos:
            try:
                self.client.publish(self.tm, pkt, False, 0, n)
                self.sent += 1
                return
            except OSError:
                self._down()
        b.put(pkt, n)
        if self.up:
            self._drain()

    def _drain(self):
        # Write what waits, oldest first.
        b = self.backlog
        c = self.client
        i = b.unsent()
        while i >= 0:
            try:
                c.publish(self.tm, b.ring[i], False, self.qos, b.lens[i])
            except OSError:
                self._down()
                return
            self.sent += 1
            b.written(self.qos)
            i = b.unsent()

    def service(self):
        # Called by the uplink task: take what the broker sent, keep the session alive,
        # reconnect when it is time.
        now = time.ticks_ms()
        if not self.up:
            if time.ticks_diff(now, self.next_try) >= 0:
                self._connect(now)
            return
        c = self.client
        try:
            c.check_msg()
            if self.qos and c.acked != self._acked:
                self.backlog.acked(c.acked - self._acked)
                self._acked = c.acked
            self._drain()
            if not self.up:
                return
            if time.ticks_diff(now, self.next_ping) >= 0:
                if time.ticks_diff(now, c.last_rx) > self.keepalive * 1500:
                    raise OSError(110)  # no answer to our pings: the broker is gone
                c.ping()
                self.next_ping = time.ticks_add(now, self.keepalive * 500)
        except Exception:  # gone, or sent what we cannot parse: log in again, fly on
            self._down()

    def _connect(self, now):
        try:
            if not hal.network_up(self.cfg):
                raise OSError(113)  # no WiFi yet
            c = self.client
            if self.ca and c.ssl is None:
                c.ssl = _tls(self.ca)
            c.connect()
            c.publish(self.status, b"online", True, 1)
            self._acked = c.acked + 1  # (the broker acknowledges the status first)
            c.subscribe(self.tc, 1)
        except MQTTException as exc:
            self.refused = exc.args[0]
            self._retry(now)
            return
        except Exception:  # OSError, a TLS handshake that failed: try again later
            self._retry(now)
            return
        self.up = True
        self.refused = 0
        self.connects += 1
        self.backoff = _FIRST_MS
        self.next_ping = time.ticks_add(now, self.keepalive * 500)

    def _retry(self, now):
        self.client.close()
        self.next_try = time.ticks_add(now, self.backoff)
        self.backoff = min(self.backoff * 2, _LONGEST_MS)

    def _down(self):
        self.up = False
        self.backlog.rewind()
        self.client.close()
        self.next_try = time.ticks_add(time.ticks_ms(), self.backoff)

    def _message(self, topic, msg):
        if topic == self.tc:
            self.on_packet(msg, len(msg))

    def close(self):
        if self.up:
            try:
                self.client.publish(self.status, b"offline", True, 1)
            except OSError:
                pass
            self.client.disconnect()
        self.up = False


def _tls(ca):
    # An SSLContext that trusts one authority alone: `ca` is its certificate as PEM text, or
    # the name of a file on the flash that holds it (DER or PEM).
    import ssl
    from binascii import a2b_base64

    if ca.startswith("-----"):
        cert = ca.encode()
    else:
        with open(ca, "rb") as f:
            cert = f.read()
    if cert.startswith(b"-----"):  # PEM: the base64 between the BEGIN and END lines
        cert = a2b_base64(b"".join(x for x in cert.split(b"\n") if x and x[0] != 45))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # MicroPython's default is CERT_NONE; the stubs lack the attribute
    context.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]
    context.load_verify_locations(cadata=cert)
    return context
