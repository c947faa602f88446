# Telemetry waiting for the MQTT broker (mqttlink.py): a bounded FIFO of packets in slots
# of packets.MAX_PACKET octets, preallocated in one bytearray, so that keeping a packet
# allocates nothing (it is copied a byte at a time: a slice would allocate).
#
# Full, the oldest packet makes room: counted in `lost` if it never reached the broker. At
# QoS 1 a packet written to the broker stays until acknowledged (in order, as MQTT
# acknowledges), so what a dying connection swallowed is written again after reconnection.
from packets import MAX_PACKET


class Backlog:
    def __init__(self, slots):
        self.slots = max(1, slots)
        self.ring = self.lens = bytearray(0)  # allocate() makes them
        self.head = 0  # the oldest packet's slot
        self.count = 0  # packets held (written and unacknowledged ones too)
        self.inflight = 0  # of those, written and not yet acknowledged
        self.skip = 0  # acknowledgements to come for packets no longer held
        self.lost = 0

    def allocate(self):
        # Once the flight model has its room (App calls MqttLink.allocate).
        self.ring = bytearray(self.slots * MAX_PACKET)
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
        ring = self.ring
        o = i * MAX_PACKET
        for k in range(n):
            ring[o + k] = pkt[k]
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
