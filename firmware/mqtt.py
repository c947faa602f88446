# mypy: disable-error-code="union-attr"
# (sock is None only between connections, when no method that uses it is called)
#
# A minimal MQTT 3.1.1 client with the API of micropython-lib's umqtt.simple (MQTTClient:
# set_callback, set_last_will, connect, publish, subscribe, check_msg, ping, disconnect): the
# unix port has no umqtt, nor does the Pico W's firmware (its networking bundle freezes mip,
# ntptime, requests and webrepl), and so both ports run the same tested code.
#
# What the firmware needs and no more: CONNECT with a will, user and password; PUBLISH at
# QoS 0 or 1 (no retransmission: a clean session; mqttlink.py keeps the backlog); SUBSCRIBE;
# PINGREQ. Unlike umqtt.simple:
#   - publish(topic, buf, retain, qos, n, off) sends buf[off:off+n] of a preallocated
#     buffer and, with topic as bytes, allocates nothing (the telemetry path runs under
#     heap_lock in tests); at QoS 1 it does not wait for the PUBACK, check_msg() counts
#     them (acked);
#   - check_msg() reads only what has arrived (select.poll), a byte at a time into a
#     preallocated buffer, so the uplink task can call it every few milliseconds.
import select
import socket
import time

from micropython import const

_CONNECT = const(0x10)
_PUBLISH = const(0x30)
_SUBSCRIBE = const(0x82)
_PINGREQ = const(0xC0)
_DISCONNECT = const(0xE0)
_RX_MAX = const(400)  # largest packet we take in (a telecommand, its topic and header)


class MQTTException(Exception):
    pass


class MQTTClient:
    def __init__(self, client_id, server, port=0, user=None, password=None, keepalive=0,
                 ssl=None):
        self.client_id = client_id
        self.server = server
        self.port = port or (8883 if ssl else 1883)
        self.user = user
        self.pswd = password
        self.keepalive = keepalive
        self.ssl = ssl
        self.sock = None
        self.cb = None
        self.pid = 0
        self.lw_topic = None
        self.lw_msg = None
        self.lw_qos = 0
        self.lw_retain = False
        self.acked = 0  # PUBACKs received
        self.last_rx = 0  # ticks_ms of the last packet from the broker
        self._hdr = bytearray(7)  # fixed header (1 + up to 4) and topic length (2)
        self._pid = bytearray(2)
        self._ack = bytearray(b"\x40\x02\x00\x00")  # PUBACK
        self._b1 = bytearray(1)
        self._rx = bytearray(_RX_MAX)
        self._poll = select.poll()
        self._rx_reset()

    def set_callback(self, f):
        self.cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.lw_topic = topic
        self.lw_msg = msg
        self.lw_qos = qos
        self.lw_retain = retain

    # --- sending -------------------------------------------------------------------

    def _header(self, first, length):
        # Fixed header into _hdr; returns its length.
        h = self._hdr
        h[0] = first
        i = 1
        while True:
            b = length & 0x7F
            length >>= 7
            h[i] = b | 0x80 if length else b
            i += 1
            if not length:
                return i

    def _send_str(self, s):
        if isinstance(s, str):
            s = s.encode()
        h = self._pid  # two octets of length
        h[0] = len(s) >> 8
        h[1] = len(s) & 0xFF
        self.sock.write(h)
        self.sock.write(s)

    def connect(self, clean_session=True, timeout=5):
        addr = socket.getaddrinfo(self.server, self.port)[0][-1]
        raw = self.sock = socket.socket()
        raw.settimeout(timeout)
        try:
            raw.connect(addr)
            if self.ssl:
                self.sock = self.ssl.wrap_socket(self.sock, server_hostname=self.server)
            flags = 2 if clean_session else 0
            length = 10 + 2 + len(self.client_id)
            if self.lw_topic:
                flags |= 4 | self.lw_qos << 3 | self.lw_retain << 5
                length += 4 + len(self.lw_topic) + len(self.lw_msg)
            if self.user is not None:
                flags |= 0x80
                length += 2 + len(self.user)
                if self.pswd is not None:
                    flags |= 0x40
                    length += 2 + len(self.pswd)
            n = self._header(_CONNECT, length)
            # stream write(buf, off, len), as every port's socket has (the stubs omit it)
            self.sock.write(self._hdr, 0, n)  # type: ignore[call-arg]
            self.sock.write(b"\x00\x04MQTT\x04")
            self._b1[0] = flags
            self.sock.write(self._b1)
            self._pid[0] = self.keepalive >> 8
            self._pid[1] = self.keepalive & 0xFF
            self.sock.write(self._pid)
            self._send_str(self.client_id)
            if self.lw_topic:
                self._send_str(self.lw_topic)
                self._send_str(self.lw_msg)
            if self.user is not None:
                self._send_str(self.user)
                if self.pswd is not None:
                    self._send_str(self.pswd)
            ack = self.sock.read(4)
            if not ack or len(ack) != 4 or ack[0] != 0x20 or ack[1] != 2:
                raise MQTTException(0)
            if ack[3]:
                raise MQTTException(ack[3])  # 4: bad user or password, 5: not authorized
        except Exception:
            self.sock.close()
            self.sock = None
            raise
        raw.settimeout(None)  # (a TLS socket's is the one under it)
        self._poll.register(self.sock, select.POLLIN)
        self._rx_reset()
        self.last_rx = time.ticks_ms()
        return ack[2] & 1

    def disconnect(self):
        if self.sock is None:
            return
        try:
            self._hdr[0] = _DISCONNECT
            self._hdr[1] = 0
            self.sock.write(self._hdr, 0, 2)
        except OSError:
            pass
        self.close()

    def close(self):
        if self.sock is not None:
            try:
                self._poll.unregister(self.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None

    def ping(self):
        self._hdr[0] = _PINGREQ
        self._hdr[1] = 0
        self.sock.write(self._hdr, 0, 2)

    def publish(self, topic, msg, retain=False, qos=0, n=-1, off=0):
        # msg[off:off + n] (all of msg when n < 0) on topic; returns the packet id (0 at
        # QoS 0).
        if n < 0:
            n = len(msg)
        tlen = len(topic)
        length = 2 + tlen + n + (2 if qos else 0)
        k = self._header(_PUBLISH | qos << 1 | (1 if retain else 0), length)
        h = self._hdr
        h[k] = tlen >> 8
        h[k + 1] = tlen & 0xFF
        sock = self.sock
        sock.write(h, 0, k + 2)
        sock.write(topic)
        pid = 0
        if qos:
            pid = self.pid = self.pid % 0xFFFF + 1
            p = self._pid
            p[0] = pid >> 8
            p[1] = pid & 0xFF
            sock.write(p)
        sock.write(msg, off, n)
        return pid

    def subscribe(self, topic, qos=0):
        if isinstance(topic, str):
            topic = topic.encode()
        self.pid = self.pid % 0xFFFF + 1
        k = self._header(_SUBSCRIBE, 2 + 2 + len(topic) + 1)
        self.sock.write(self._hdr, 0, k)
        self._pid[0] = self.pid >> 8
        self._pid[1] = self.pid & 0xFF
        self.sock.write(self._pid)
        self._send_str(topic)
        self._b1[0] = qos
        self.sock.write(self._b1)

    # --- receiving -----------------------------------------------------------------

    def _rx_reset(self):
        self._state = 0  # 0: fixed header, 1: remaining length, 2: body
        self._type = 0
        self._len = 0
        self._shift = 0
        self._got = 0

    def check_msg(self, most=1024):
        # Handle what has arrived (up to `most` octets); never waits. OSError when the broker
        # is gone.
        b1 = self._b1
        poll = self._poll
        while most > 0:
            most -= 1
            ready = False
            for _ in poll.ipoll(0):
                ready = True
            if not ready:
                return
            if self.sock.readinto(b1, 1) != 1:
                raise OSError(104)  # the broker closed the connection (ECONNRESET)
            self._byte(b1[0])

    def wait_msg(self):
        # Block for the next byte, then handle what has arrived.
        b1 = self._b1
        if self.sock.readinto(b1, 1) != 1:
            raise OSError(104)
        self._byte(b1[0])
        self.check_msg()

    def _byte(self, b):
        state = self._state
        if state == 0:
            self._type = b
            self._len = 0
            self._shift = 0
            self._state = 1
        elif state == 1:
            self._len |= (b & 0x7F) << self._shift
            self._shift += 7
            if not b & 0x80:
                self._got = 0
                if self._len:
                    self._state = 2
                else:
                    self._packet()
        else:
            if self._got < _RX_MAX:
                self._rx[self._got] = b
            self._got += 1
            if self._got == self._len:
                self._packet()

    def _packet(self):
        kind = self._type & 0xF0
        self._state = 0
        self.last_rx = time.ticks_ms()
        rx = self._rx
        if kind == 0x40:  # PUBACK
            self.acked += 1
        elif kind == 0x30 and self._len <= _RX_MAX:  # PUBLISH
            tlen = (rx[0] << 8) | rx[1]
            pos = 2 + tlen
            qos = (self._type >> 1) & 3
            if qos:  # acknowledged first: the callback may publish
                self._ack[2] = rx[pos]
                self._ack[3] = rx[pos + 1]
                self.sock.write(self._ack)
                pos += 2
            if self.cb is not None:
                self.cb(bytes(rx[2:2 + tlen]), bytes(rx[pos:self._len]))
        # CONNACK, SUBACK, PINGRESP: nothing to do beyond last_rx
