# Telemetry downlink: packs a packet from its points object, appends the CRC, COBS-frames it
# and writes it, all in preallocated buffers (and, on the MQTT bus, publishes it unframed).
# send() is the steady-state frame path and must not allocate (tests run it under
# micropython.heap_lock()). The scheduler sends each periodic packet at its own rate on the
# vehicle clock, with a sequence count per APID.
from array import array

import hal
import packets
from framing import cobs_encode, crc16

_MAX_FRAME = packets.MAX_PACKET + packets.MAX_PACKET // 254 + 2


class Downlink:
    def __init__(self, points, clock):
        self.points = points
        self.clock = clock
        self.pkt = bytearray(packets.MAX_PACKET)
        self.frame = bytearray(_MAX_FRAME)
        self.seq = array("H", bytes(2 * packets.N_PACKETS))
        self.period_ms = array("i", bytes(4 * packets.N_PACKETS))
        self.due_ms = array("i", bytes(4 * packets.N_PACKETS))
        self.sent = 0
        self.mqtt = None  # an MqttLink publishes every packet too (mqttlink.py)
        for i in range(packets.N_PACKETS):
            self.set_rate_mhz(i, packets.RATES_MHZ[i])

    def set_rate_mhz(self, index, mhz):
        # 0 stops periodic sending; events and verifications are sent on occurrence anyway.
        self.period_ms[index] = 1000000 // mhz if mhz > 0 else 0
        self.due_ms[index] = 0

    def send(self, index):
        # The frame path: pack, CRC, COBS, write. No allocation.
        c = self.clock
        pkt = self.pkt
        seq = self.seq[index]
        n = packets.PACKERS[index](pkt, seq, c.coarse_hi, c.coarse_lo, c.fine, self.points[index])
        crc = crc16(pkt, n)
        pkt[n] = crc >> 8
        pkt[n + 1] = crc & 0xFF
        hal.write(self.frame, cobs_encode(pkt, n + 2, self.frame))
        if self.mqtt is not None:
            self.mqtt.send(pkt, n + 2)
        self.seq[index] = (seq + 1) & 0x3FFF
        self.sent += 1

    def run_due(self, now_ms):
        # Send every periodic packet whose time has come (now_ms: vehicle milliseconds).
        period = self.period_ms
        due = self.due_ms
        for i in range(packets.N_PACKETS):
            p = period[i]
            if p and now_ms >= due[i]:
                self.send(i)
                # Stay on the rate's grid; after a stall, skip missed slots rather than burst.
                nxt = due[i] + p
                due[i] = nxt if nxt > now_ms else now_ms + p
