# The vehicle clock: simulated time in milliseconds, advanced by the control loop in fixed
# steps so that a seeded run is reproducible and can run faster than real time (time warp).
# Kept as small integers (seconds and milliseconds apart) so that it never becomes a heap
# integer on a 32-bit port; coarse/fine are the CUC fields of the telemetry time code.
class Clock:
    def __init__(self, epoch_s=0):
        self.sec = 0        # whole seconds since boot
        self.ms = 0         # milliseconds into the current second
        self.epoch_hi = epoch_s >> 16
        self.epoch_lo = epoch_s & 0xFFFF
        self.coarse_hi = 0
        self.coarse_lo = 0
        self.fine = 0
        self._update()

    def advance(self, dt_ms):
        ms = self.ms + dt_ms
        while ms >= 1000:
            ms -= 1000
            self.sec += 1
        self.ms = ms
        self._update()

    def now_ms(self):
        # Milliseconds since boot; small enough for a small int for 12 days.
        return self.sec * 1000 + self.ms

    def set_epoch(self, coarse):
        # SET_TIME: make the current instant read `coarse` seconds on the vehicle clock.
        base = coarse - self.sec
        self.epoch_hi = (base >> 16) & 0xFFFF
        self.epoch_lo = base & 0xFFFF
        self._update()

    def _update(self):
        lo = self.epoch_lo + (self.sec & 0xFFFF)
        self.coarse_lo = lo & 0xFFFF
        self.coarse_hi = (self.epoch_hi + (self.sec >> 16) + (lo >> 16)) & 0xFFFF
        self.fine = (self.ms << 16) // 1000
