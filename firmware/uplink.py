# Telecommand uplink: reads the serial port byte by byte, splits COBS frames on 0x00 and
# hands each complete frame to a handler.
#
# Break-in. While the firmware reads telecommands it disables Ctrl-C (hal.set_break(False)),
# because a telecommand frame may carry 0x01-0x04. It still lets mpremote (which writes
# b"\r\x03", then b"\r\x01") or a person at a terminal stop it: a valid telecommand frame
# can never hold 0x03 as its first or second byte (the COBS code byte of a TC packet is 0x02
# or >= 0x04, and the next byte is the header's first octet, 0x18-0x1F: version 0, type TC,
# secondary header). So a 0x03 there is a break. A 0x03 later in a frame that has been
# pending for more than BREAK_IDLE_MS is one too (the ground writes a frame in one go; a
# person's typing does not end in 0x00). The firmware then re-enables Ctrl-C and stops,
# leaving the bytes that follow to the REPL. Reading one byte at a time keeps those bytes
# unread. A 0x03 that is data is reported to the port (hal.rx_data_ctrl_c), for the virtual
# board, which holds what follows a 0x03 until it knows.
import time

import hal
from micropython import const

MAX_FRAME = const(300)
BREAK_IDLE_MS = const(500)


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
            self.n = 0
            self.overflow = False
            return
        if b == 3:
            if n < 2 or time.ticks_diff(time.ticks_ms(), self.started) > BREAK_IDLE_MS:
                self.n = 0
                raise Break()
            hal.rx_data_ctrl_c()
        if n == 0:
            self.started = time.ticks_ms()
        if n < MAX_FRAME:
            self.buf[n] = b
            self.n = n + 1
        else:
            self.overflow = True
