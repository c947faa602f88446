# Sensor models: what the flight software gets to see of the vehicle, with the errors real
# units have and the faults a test campaign injects (firmware/faults.py sets the fields
# below; their healthy values are the defaults).
#
# Laser rangefinder (LRF): on the bottom deck, looking along the engine's axis, so it sees
# the ground only once the vehicle pitches up from its braking attitude; slant range to
# where the beam meets the terrain (not the terrain straight below). Designed range 3 km, as
# ispace's Mission 2 LRF "designed to give altitude from >= ~3 km" (ispace, June 2025).
# IMU: accelerometers along the thrust axis and across it, gyros; bias and white noise.
# Tanks: fuel, oxidiser and helium pressure transducers, tank temperatures. Battery monitor.
# Noise levels are our assumptions, typical of the class.
import math

LRF_MAX_RANGE = 3000.0      # m (ispace M2 design)
LRF_SIGMA0 = 0.5            # m, plus LRF_SIGMA_REL of the range
LRF_SIGMA_REL = 0.001
LRF_MAX_INCIDENCE = 1.2     # rad: beyond ~69 deg from vertical no return comes back
IMU_NOISE = 0.003           # m/s^2 per 50 Hz sample
IMU_BIAS = 0.002            # m/s^2, one sigma, per axis (about 200 micro-g)


class Lrf:
    def __init__(self, rng, terrain):
        self.rng = rng
        self.terrain = terrain
        self.range = 0.0
        self.valid = False
        self.slant = 0.0            # true slant range (truth, for the TRUTH packet)
        # Faults (healthy values).
        self.stuck = False
        self.dropout = 0.0          # fraction of measurements lost
        self.bias = 0.0             # m
        self.noise = 0.0            # extra one-sigma noise, m
        self.max_range = LRF_MAX_RANGE
        self.inhibited = False      # laser inhibited in hardware (IM-1's safety plug)

    def bit(self):
        # Built-in test: the laser fires into its internal target. An inhibited laser does
        # not fire, so this is how an inhibit is noticed before it matters.
        return not self.inhibited

    def measure(self, v):
        if self.stuck:
            return                  # the output keeps its last value and validity
        if self.inhibited:
            self.valid = False
            return
        # Where the beam meets the terrain: one fixed-point step of the footprint.
        tilt = v.pitch
        if tilt < 0.0:
            tilt = -tilt
        if tilt > LRF_MAX_INCIDENCE:
            self.valid = False
            return
        t = math.tan(v.pitch)
        depth = v.h - self.terrain.height(v.x)
        depth = v.h - self.terrain.height(v.x + depth * t)
        if depth <= 0.0:
            self.valid = False
            return
        slant = depth / math.cos(tilt)
        self.slant = slant
        if slant > self.max_range or (self.dropout > 0.0 and self.rng.uniform() < self.dropout):
            self.valid = False
            return
        sigma = LRF_SIGMA0 + LRF_SIGMA_REL * slant + self.noise
        self.range = max(slant + self.bias + sigma * self.rng.gauss(), 0.0)
        self.valid = True


class Imu:
    def __init__(self, rng):
        self.rng = rng
        self.bias_z = IMU_BIAS * rng.gauss()
        self.bias_x = IMU_BIAS * rng.gauss()
        self.fz = 0.0               # specific force along the thrust axis, m/s^2
        self.fx = 0.0               # across it, in the orbit plane
        self.valid = True
        self.stuck = False
        self.dropout = 0.0
        self.fault_bias = 0.0
        self.noise = 0.0

    def measure(self, v):
        if self.stuck:
            return
        rng = self.rng
        if self.dropout > 0.0 and rng.uniform() < self.dropout:
            self.valid = False
            return
        self.valid = True
        sigma = IMU_NOISE + self.noise
        self.fz = v.accel + self.bias_z + self.fault_bias + sigma * rng.gauss()
        self.fx = self.bias_x + sigma * rng.gauss()


class TankSensors:
    def __init__(self, rng):
        self.rng = rng
        self.fuel = 0.0             # bar
        self.ox = 0.0
        self.helium = 0.0
        self.fuel_temp = 0.0        # degC
        self.ox_temp = 0.0
        self.bias = 0.0             # fuel transducer bias, bar

    def measure(self, v):
        g = self.rng.gauss
        self.fuel = v.p_tank + self.bias + 0.02 * g()
        self.ox = v.p_tank - 0.1 + 0.02 * g()
        self.helium = v.p_he + 0.05 * g()
        self.fuel_temp = v.fuel_temp + 0.05 * g()
        self.ox_temp = v.ox_temp + 0.05 * g()


class BatteryMonitor:
    def __init__(self, rng):
        self.rng = rng
        self.voltage = 0.0
        self.current = 0.0
        self.bias = 0.0             # voltage sense bias, V

    def measure(self, v):
        g = self.rng.gauss
        self.voltage = v.voltage + self.bias + 0.02 * g()
        self.current = v.current + 0.05 * g()
