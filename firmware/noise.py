# Seeded noise for the sensor models and the scenario dispersions: the same numbers on every
# port for a given seed, so that a seeded run can be replayed byte for byte.
#
# Two multiply-with-carry generators in base 2**15 (G. Marsaglia). For both multipliers
# a * 2**15 - 1 is a safe prime, which gives each generator its full period (about 5e8);
# together, about 2.7e17. Every intermediate stays below 2**30, so on a Pico (31-bit small
# ints) drawing a number never makes a heap integer, unlike a 32-bit LCG.
from micropython import const

_A1 = const(32760)
_A2 = const(32730)
_M15 = const(0x7FFF)


class Rng:
    def __init__(self, seed):
        seed = int(seed) & 0x3FFFFFFF
        self.z = 1 + seed % 1000003
        self.w = 1 + (seed >> 10) % 999331 + seed % 17
        self.x = 0          # the last 30-bit draw (the BOOT event reports it)
        for _ in range(8):
            self.uniform()

    # The two generators are stepped inline (no helper, no tuple): these run several times
    # every control cycle, and a call and a tuple cost more than the arithmetic.

    def uniform(self):
        # Uniform in [0, 1) with 30 bits: one 15-bit draw of each generator.
        z = self.z
        z = _A1 * (z & _M15) + (z >> 15)
        self.z = z
        w = self.w
        w = _A2 * (w & _M15) + (w >> 15)
        self.w = w
        x = ((z & _M15) << 15) | (w & _M15)
        self.x = x
        return x / 1073741824.0

    def gauss(self):
        # Approximately N(0, 1): the Irwin-Hall sum of four 15-bit uniforms (two draws of
        # each generator), scaled. Cheap, bounded at +-3.46 sigma, good enough for sensor
        # noise.
        z = self.z
        w = self.w
        z = _A1 * (z & _M15) + (z >> 15)
        w = _A2 * (w & _M15) + (w >> 15)
        s = (z & _M15) + (w & _M15)
        z = _A1 * (z & _M15) + (z >> 15)
        w = _A2 * (w & _M15) + (w >> 15)
        self.z = z
        self.w = w
        return ((s + (z & _M15) + (w & _M15)) / 32768.0 - 2.0) * 1.7320508
