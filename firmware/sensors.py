# Sensor models: what the flight software gets to see of the vehicle (written into the bus,
# firmware/bus.py), with the errors real units have and the faults a test campaign injects
# (firmware/faults.py sets the fields below; their healthy values are the defaults).
# Figures from the parameter set (firmware/craft.py, sourced in schemas/craft.toml).
#
# Laser rangefinder (LRF): on the bottom deck, looking along the engine's axis, so it sees
# the ground only once the vehicle pitches up from its braking attitude; slant range to where
# the beam meets the terrain. Its return weakens with the square of the range and with the
# incidence; its noise grows with the slant (the footprint spreads over the terrain's
# roughness). A degraded laser (ispace M2, 2025) returns enough light only nearer.
# IMU: accelerometers along the thrust axis and across it with a full scale, a pitch gyro.
# Star tracker: absolute attitude. Doppler lidar (a payload, IM-1), optical navigation.
# Chamber-pressure, tank, battery and temperature transducers; leg contact switches.
import math


class Lrf:
    def __init__(self, rng, terrain, p):
        self.rng = rng
        self.terrain = terrain
        self.sigma0 = p["lrf_sigma0"]
        self.sigma_rel = p["lrf_sigma_rel"]
        self.max_incidence = p["lrf_max_incidence"]
        self.return_min = p["lrf_return_min"]
        self.design_range = p["lrf_max_range"]
        self.range = 0.0
        self.valid = False
        self.slant = 0.0            # true slant range (truth, for the TRUTH packet)
        self.strength = 0.0
        # Faults (healthy values).
        self.stuck = False
        self.dropout = 0.0          # fraction of measurements lost
        self.bias = 0.0             # m
        self.noise = 0.0            # extra one-sigma noise, m
        self.max_range = self.design_range  # a weaker laser: returns strong enough only below
        self.plugged = False        # the safety plug left in: the laser cannot fire (IM-1)

    def bit(self):
        # Built-in test: the laser fires into its internal target.
        return not self.plugged

    def measure(self, v, bus):
        bus.lrf_armed = not self.plugged
        if self.stuck:
            return                  # the output keeps its last value and validity
        self.valid = False
        self.strength = 0.0
        if self.plugged:
            self._out(bus)
            return
        tilt = v.pitch
        if tilt < 0.0:
            tilt = -tilt
        if tilt > self.max_incidence:
            self._out(bus)
            return
        # Where the beam meets the terrain: one fixed-point step of the footprint.
        t = math.tan(v.pitch)
        depth = v.h - self.terrain.height(v.x)
        depth = v.h - self.terrain.height(v.x + depth * t)
        if depth <= 0.0:
            self._out(bus)
            return
        c = math.cos(tilt)
        slant = depth / c
        self.slant = slant
        # Return strength against the detection threshold (1): falls with the square of
        # the range and with the incidence; max_range is where it reaches 1 head-on.
        k = self.max_range / slant
        self.strength = k * k * c
        if self.strength < self.return_min or (
                self.dropout > 0.0 and self.rng.uniform() < self.dropout):
            self._out(bus)
            return
        sigma = ((self.sigma0 + self.sigma_rel * slant) / c
                 + self.terrain.roughness * math.tan(tilt) + self.noise)
        self.range = max(slant + self.bias + sigma * self.rng.gauss(), 0.0)
        self.valid = True
        self._out(bus)

    def _out(self, bus):
        bus.lrf_valid = self.valid
        bus.lrf_range = self.range
        bus.lrf_return = self.strength


class Imu:
    def __init__(self, rng, p):
        self.rng = rng
        self.bias_z = p["imu_accel_bias"]
        self.bias_x = p["imu_accel_bias"] * 0.7 + 0.001 * rng.gauss()
        self.gyro_bias = p["attitude_gyro_bias"]
        self.gyro_noise = p["attitude_gyro_noise"]
        self.accel_noise = p["imu_accel_noise"]
        self.accel_range = p["imu_accel_range"]
        self.fz = 0.0
        self.fx = 0.0
        self.rate = 0.0
        self.valid = True
        self.resets = 0
        # Faults (healthy values).
        self.stuck = False
        self.dropout = 0.0
        self.fault_bias = 0.0
        self.noise = 0.0
        self.full_scale = 0.0       # a lower full scale than the data sheet's (0: healthy)
        self.reset_every = 0.0      # s: the unit resets itself this often (Beresheet)
        self._t = 0.0

    def measure(self, v, bus, dt):
        if self.stuck:
            return
        rng = self.rng
        if self.reset_every > 0.0:
            # A reset cascade: every reset_every seconds the unit restarts and is silent
            # for 2 s, and comes back with a new accelerometer bias.
            self._t += dt
            if self._t >= self.reset_every:
                self._t = 0.0
                self.resets += 1
                self.bias_z += 0.002 * rng.gauss()
            if self._t < 2.0:
                self._silent(bus)
                return
        if self.dropout > 0.0 and rng.uniform() < self.dropout:
            self._silent(bus)
            return
        self.valid = True
        sigma = self.accel_noise + self.noise
        fz = v.accel + self.bias_z + self.fault_bias + sigma * rng.gauss()
        lim = self.full_scale if self.full_scale > 0.0 else self.accel_range
        sat = False
        if fz > lim:
            fz = lim
            sat = True
        self.fz = fz
        self.fx = self.bias_x + sigma * rng.gauss()
        self.rate = v.rate + self.gyro_bias + self.gyro_noise * rng.gauss()
        bus.imu_valid = True
        bus.imu_fz = fz
        bus.imu_fx = self.fx
        bus.imu_rate = self.rate
        bus.imu_saturated = sat
        bus.imu_resets = self.resets

    def _silent(self, bus):
        self.valid = False
        bus.imu_valid = False
        bus.imu_resets = self.resets


class StarTracker:
    def __init__(self, rng, p):
        self.rng = rng
        self.sigma = p["attitude_star_tracker_sigma"]
        self.lost = False           # fault: no attitude solution (blinded, or failed)

    def measure(self, v, bus):
        bus.st_valid = not self.lost
        if not self.lost:
            bus.st_pitch = v.pitch + self.sigma * self.rng.gauss()


class Ndl:
    # NASA's Navigation Doppler Lidar: range along the thrust axis and the velocity, from
    # beyond 5 km. `flag` is its data-valid flag, set when it has a lock.
    def __init__(self, rng, terrain, p, present):
        self.rng = rng
        self.terrain = terrain
        self.present = present
        self.max_range = p["ndl_max_range"]
        self.sigma_r = p["ndl_range_sigma"]
        self.sigma_v = p["ndl_velocity_sigma"]

    def measure(self, v, bus):
        bus.ndl_present = self.present
        if not self.present:
            bus.ndl_flag = False
            return
        tilt = v.pitch if v.pitch > 0.0 else -v.pitch
        depth = v.h - self.terrain.height(v.x)
        if tilt > 1.2 or depth <= 0.0 or depth / math.cos(tilt) > self.max_range:
            bus.ndl_flag = False
            return
        g = self.rng.gauss
        bus.ndl_flag = True
        bus.ndl_range = depth / math.cos(tilt) + self.sigma_r * g()
        bus.ndl_vz = v.vz + self.sigma_v * g()
        bus.ndl_vx = v.vx + self.sigma_v * g()


class Optical:
    # Terrain-relative navigation from a downward camera against an onboard map (1 Hz):
    # altitude and velocity, with the map's tie error as a bias.
    def __init__(self, rng, terrain, p):
        self.rng = rng
        self.terrain = terrain
        self.max_alt = p["optical_max_altitude"]
        self.sigma_h = p["optical_altitude_sigma"]
        self.sigma_v = p["optical_velocity_sigma"]
        self.bias = p["optical_altitude_bias"]

    def measure(self, v, bus):
        alt = v.altitude()
        tilt = v.pitch if v.pitch > 0.0 else -v.pitch
        bus.opt_new = True
        bus.opt_valid = 2.0 < alt < self.max_alt and tilt < 0.9
        if bus.opt_valid:
            g = self.rng.gauss
            bus.opt_alt = alt + self.bias + self.sigma_h * g()
            bus.opt_vz = v.vz + self.sigma_v * g()
            bus.opt_vx = v.vx + self.sigma_v * g()


class Transducers:
    # Chamber pressure, tanks, battery and temperatures (10 Hz).
    def __init__(self, rng, p):
        self.rng = rng
        self.pc_nom = p["main_engine_chamber_pressure"]
        self.f_nom = p["main_engine_thrust"]
        self.pc_scale = 1.0 + 0.005 * rng.gauss()
        self.fuel_bias = 0.0        # faults: fuel and oxidiser transducer offsets, bar
        self.ox_bias = 0.0
        self.batt_bias = 0.0        # battery voltage sense offset, V

    def chamber(self, v, bus):
        # Every cycle: the chamber pressure, a fast transducer.
        bus.pc = self.pc_nom * self.pc_scale * v.thrust_main / self.f_nom + 0.03 * self.rng.gauss()

    def measure(self, v, bus):
        g = self.rng.gauss
        bus.fuel_p = v.p_fuel + self.fuel_bias + 0.02 * g()
        bus.ox_p = v.p_ox + self.ox_bias + 0.02 * g()
        bus.he_p = v.p_he + 0.05 * g()
        bus.fuel_t = v.fuel_temp + 0.05 * g()
        bus.ox_t = v.ox_temp + 0.05 * g()
        bus.avionics_t = v.avionics_temp + 0.1 * g()
        bus.batt_v = v.voltage + self.batt_bias + 0.02 * g()
        bus.batt_i = v.current + 0.05 * g()
        bus.solar_i = v.solar + 0.05 * g()
