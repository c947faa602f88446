# Telemetry waiting for the MQTT broker (mqttlink.py): a bounded FIFO of packets in slots
# of packets.MAX_PACKET octets, preallocated, so that keeping a packet allocates nothing (it
# is copied a byte at a time: a slice would allocate). A slot is a bytearray of its own:
# once the flight model is built the heap has room in pieces only, and one 3 KB block for
# all of them was not there (a virtual Pico W flashed with the build died at boot with a
# MemoryError, its heap then some 30 KB free in smaller pieces).
#
# Full, the oldest packet makes room: counted in `lost` if it never reached the broker. At
# QoS 1 a packet written to the broker stays until acknowledged (in order, as MQTT
# acknowledges), so what a dying connection swallowed is written again after reconnection.
from packets import MAX_PACKET


class Backlog:
    def __init__(self, slots):
        self.slots = max(1, slots)
        self.ring = []  # allocate() makes the slots
        self.lens = bytearray(0)
        self.head = 0  # the oldest packet's slot
        self.count = 0  # packets held (written and unacknowledged ones too)
        self.inflight = 0  # of those, written and not yet acknowledged
        self.skip = 0  # acknowledgements to come for packets no longer held
        self.lost = 0

    def allocate(self):
        # Once the flight model has its room (App calls MqttLink.allocate).
        ring = self.ring = [None] * self.slots
        for i in range(self.slots):
            ring[i] = bytearray(MAX_PACKET)
        self.lens = bytearray(self.slots)  # each slot's packet length

    def put(self, pkt, n):
        slots = self.slots
        if self.count == slots:  # full: the oldest makes room
            if self.inflight:  # written already: no longer kept for writing again
                self.inflight -= 1
                self.skip += 1  # (its acknowledgement is the next to come)
            else:
                self.lost += 1
            self.head = (self.head + 1) % slots
            self.count -= 1
        i = (self.head + self.count) % slots
        slot = self.ring[i]
        for k in range(n):
            slot[k] = pkt[k]
        self.lens[i] = n
        self.count += 1

    def unsent(self):
        # The slot of the oldest packet not yet written, or -1.
        if self.count > self.inflight:
            return (self.head + self.inflight) % self.slots
        return -1

    def written(self, qos):
        # The unsent() packet went to the broker: at QoS 0 it leaves, at QoS 1 it waits.
        if qos:
            self.inflight += 1
        else:
            self.head = (self.head + 1) % self.slots
            self.count -= 1

    def acked(self, done):
        # The broker acknowledged `done` more packets: the oldest written ones leave.
        skip = min(done, self.skip)
        self.skip -= skip
        done = min(done - skip, self.inflight)
        self.inflight -= done
        self.count -= done
        self.head = (self.head + done) % self.slots

    def rewind(self):
        # The connection is gone: what it did not acknowledge is to be written again.
        self.inflight = 0
        self.skip = 0
