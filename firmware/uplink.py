# Telecommand uplink: reads the serial port byte by byte, splits COBS frames on 0x00 and
# hands each complete frame to a handler.
#
# Break-in. While the firmware reads telecommands it disables Ctrl-C (hal.set_break(False)),
# because a telecommand frame may carry 0x01-0x04. It still lets mpremote (which writes
# b"\r\x03", then b"\r\x01") or a person at a terminal stop it. A telecommand frame has a
# fixed shape that the uplink follows byte by byte (_shape below): its COBS code bytes, the
# header's first word commands.TC_WORD0, sequence flags 0b11, a data length that makes a
# packet of MIN_TC..MAX_TC octets, and exactly that many octets before the delimiter.
#   - A 0x03 that keeps the frame in that shape is data, however long the frame takes to
#     arrive: no telecommand, whole or half received, can stop the flight software.
#   - A 0x03 in the first two bytes of a frame is a break-in: no telecommand frame can hold
#     one there (mpremote's b"\r\x03" after a delimiter, a Ctrl-C typed at a terminal).
#   - A 0x03 in a frame that cannot be a telecommand (it left the shape: other bytes, or more
#     than its length) is a break-in once the frame has waited BREAK_IDLE_MS for its
#     delimiter (what a person types, or mpremote's bytes after a frame left half-written),
#     and data before that (a burst of other bytes, refused as one bad frame).
# On a break-in the firmware re-enables Ctrl-C and stops, leaving the bytes that follow to
# the REPL (reading one byte at a time keeps them unread). A 0x03 that is data is reported
# to the port (hal.rx_data_ctrl_c), for the virtual board, which holds what follows a 0x03
# until it knows. Telecommands on a UART (hal.repl_port() false) never break in: Ctrl-C on
# the USB port works as usual.
import time

import hal
from commands import MAX_TC, MIN_TC, TC_WORD0
from micropython import const

MAX_FRAME = const(300)
BREAK_IDLE_MS = const(500)
_HEADER = const(6)  # decoded octets whose values the shape checks
# Allowed range of each of the first decoded octets: header word, sequence flags, the data
# length's two octets (a TC packet is MIN_TC..MAX_TC octets long, so the high one is 0).
_LOW = (TC_WORD0 >> 8, TC_WORD0 & 0xFF, 0xC0, 0, (MIN_TC - 7) >> 8, (MIN_TC - 7) & 0xFF)
_HIGH = (TC_WORD0 >> 8, TC_WORD0 & 0xFF, 0xFF, 0xFF, (MAX_TC - 7) >> 8, (MAX_TC - 7) & 0xFF)


class Break(Exception):
    pass


class Uplink:
    def __init__(self, on_frame):
        self.on_frame = on_frame
        self.buf = bytearray(MAX_FRAME)
        self.n = 0
        self.overflow = False
        self.started = 0
        self.bytes = 0
        self.overflows = 0
        self._reset()

    def _reset(self):
        self.n = 0
        self.shaped = True  # the bytes so far can begin a telecommand frame
        self.code_at = 0  # where the next COBS code byte is
        self.decoded = 0  # packet octets the frame holds so far
        self.end = MAX_TC + 1  # the frame's length once its header says it
        self.length_hi = 0

    def poll(self):
        # Consume every waiting byte; raises Break on a break-in.
        while True:
            b = hal.read_byte()
            if b < 0:
                return
            self.bytes += 1
            self.feed(b)

    def feed(self, b):
        n = self.n
        if b == 0:
            if n and not self.overflow:
                self.on_frame(self.buf, n)
            elif self.overflow:
                self.overflows += 1
            self.overflow = False
            self._reset()
            return
        if n == 0:
            self.started = time.ticks_ms()
        if self.shaped:
            self.shaped = self._shape(n, b)
        if b == 3:
            if not self.shaped and hal.repl_port() and (
                n < 2 or time.ticks_diff(time.ticks_ms(), self.started) > BREAK_IDLE_MS
            ):
                self.overflow = False
                self._reset()
                raise Break()
            hal.rx_data_ctrl_c()
        if n < MAX_FRAME:
            self.buf[n] = b
            self.n = n + 1
        else:
            self.overflow = True

    def _shape(self, n, b):
        # Whether byte b at frame offset n keeps the frame a possible telecommand.
        if n >= self.end:
            return False  # past the delimiter's place
        d = self.decoded
        if n != self.code_at:
            self.decoded = d + 1
            return self._octet(d, b)
        if n and not self._octet(d, 0):  # a code byte after the first stands for a 0x00
            return False
        if n:
            d += 1
            self.decoded = d
        self.code_at = n + b
        if self.code_at > self.end:
            return False
        # The block's data octets are not 0x00, and the octet after it (when the frame goes
        # on) is: both must fit the header.
        for i in range(d, min(d + b - 1, _HEADER)):
            if _HIGH[i] == 0:
                return False
        if d + b - 1 < _HEADER and _LOW[d + b - 1] != 0:
            return False
        return True

    def _octet(self, i, v):
        # Whether packet octet i may be v; the data length's sets the frame's end.
        if i >= _HEADER:
            return True
        if not _LOW[i] <= v <= _HIGH[i]:
            return False
        if i == _HEADER - 2:
            self.length_hi = v
        elif i == _HEADER - 1:
            # packet = data length + 7 octets; COBS adds one (no block reaches 254)
            self.end = (self.length_hi << 8) + v + 8
            return self.code_at <= self.end
        return True
