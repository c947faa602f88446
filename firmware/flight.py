# The lander model: a point mass over the Moon (vertical and downrange axes) with a
# throttled main engine, a rangefinder, an IMU, tanks and a battery, flown through its
# phases by a simple velocity-tracking guidance. It writes raw telemetry values into the
# packet points objects. The flight-model work deepens every part of it (navigation
# filter, terrain, fault protection); this is the first, plausible version.
#
# Figures: lunar gravity 1.62 m/s^2 (JPL Horizons); dry mass ~340 kg (ispace HAKUTO-R
# Series 1, press release 2020-07-30); braking from ~1,680 m/s over ~9 min (Firefly Blue
# Ghost, NASA blog 2025-03-02). Thrust and Isp are not published for that lander; 3,000 N
# and 320 s are typical of a bipropellant engine of its class (our assumption).
import math

import packets as P

G_MOON = 1.62
G0 = 9.80665
ISP = 320.0
THRUST_MAX = 3000.0
THROTTLE_MIN = 0.2
DRY_MASS = 340.0
PROP_MASS0 = 380.0
PDI_ALTITUDE = 15000.0
PDI_SPEED = 1680.0
LRF_MAX_RANGE = 10000.0
SLEW_MAX = 0.17         # attitude slew limit, rad/s (about 10 deg/s)


class Rng:
    # A small 30-bit LCG: the same sequence on every port for a given seed.
    def __init__(self, seed):
        self.x = (seed * 2654435 + 1) & 0x3FFFFFFF

    def uniform(self):
        self.x = (self.x * 1103515 + 12345) & 0x3FFFFFFF
        return self.x / 1073741824.0

    def gauss(self):
        # Irwin-Hall approximation of N(0, 1): cheap, bounded, good enough for sensor noise.
        return (self.uniform() + self.uniform() + self.uniform() + self.uniform() - 2.0) * 1.7320508


class Flight:
    def __init__(self, points, events, seed=1):
        self.hk = points[P.HK]
        self.nav = points[P.NAV]
        self.prop = points[P.PROP]
        self.power = points[P.POWER]
        self.events = events
        self.rng = Rng(seed)
        self.phase = P.PHASE_IDLE
        self.h = PDI_ALTITUDE   # true altitude above terrain, m
        self.x = 0.0            # downrange, m
        self.vz = 0.0           # vertical velocity, m/s (up)
        self.vx = PDI_SPEED     # horizontal velocity, m/s
        self.prop_mass = PROP_MASS0
        self.throttle = 0.0
        self.pitch = 1.4        # thrust axis from vertical, rad: held near braking attitude
        self._prev_pitch = 1.4
        self.soc = 96.0
        self.fuel_temp = 21.0
        self.ox_temp = 20.5
        self.touchdown_vz = 0.0
        self.touchdown_vx = 0.0
        self.hk.phase = self.phase
        self._update_points(0.0, 0.0, 0.0)

    def set_phase(self, phase):
        if phase != self.phase:
            self.events(P.EVENT_ID_PHASE_CHANGE, P.SEVERITY_INFO, self.phase, phase, int(self.h))
            self.phase = phase
            self.hk.phase = phase

    # Commands. Each returns 0 when done, or the TC_VERIFY reason code why not.

    def arm(self):
        if self.phase != P.PHASE_IDLE:
            return P.REASON_NOT_ALLOWED
        self.set_phase(P.PHASE_ARMED)
        return 0

    def start_descent(self):
        if self.phase not in (P.PHASE_IDLE, P.PHASE_ARMED):
            return P.REASON_NOT_ALLOWED
        self.set_phase(P.PHASE_BRAKING)
        return 0

    def abort(self):
        if self.phase not in (P.PHASE_BRAKING, P.PHASE_APPROACH, P.PHASE_TERMINAL):
            return P.REASON_NOT_ALLOWED
        self.events(P.EVENT_ID_ABORT, P.SEVERITY_CRITICAL, self.phase, int(self.h), 0)
        self.set_phase(P.PHASE_ABORT)
        return 0

    def safe(self):
        if self.phase in (P.PHASE_BRAKING, P.PHASE_APPROACH, P.PHASE_TERMINAL):
            return P.REASON_NOT_ALLOWED  # in powered flight the answer is ABORT, not SAFE
        self.events(P.EVENT_ID_SAFE_ENTERED, P.SEVERITY_WARNING, self.phase, 0, 0)
        self.set_phase(P.PHASE_SAFE)
        self.hk.mode = P.MODE_SAFE
        return 0

    def inject_fault(self, target, kind, magnitude):
        # The flight-model work implements the faults; until then they are refused.
        return P.REASON_NOT_ALLOWED

    def clear_fault(self, target):
        return P.REASON_NOT_ALLOWED

    def _guidance(self, mass):
        # Acceleration commands (vertical, horizontal) for the phase, in m/s^2.
        h = self.h
        a_max = THRUST_MAX / mass
        if self.phase == P.PHASE_BRAKING:
            # Hold a descent profile with the vertical channel; brake with all that is left.
            t_brake = max(self.vx / (0.8 * a_max), 1.0)
            vz_ref = -max(h - 2000.0, 0.0) / t_brake
            az = G_MOON + 0.5 * (vz_ref - self.vz)
            az = min(max(az, 0.0), a_max)
            ax = -math.sqrt(max(a_max * a_max - az * az, 0.0))
            return az, ax
        if self.phase == P.PHASE_APPROACH:
            vz_ref = -min(max(h / 20.0, 1.5), 60.0)
        else:  # TERMINAL
            vz_ref = -1.0
        az = G_MOON + 0.8 * (vz_ref - self.vz)
        ax = -0.5 * self.vx
        return az, ax

    def step(self, dt):
        # Advance the model by dt seconds.
        phase = self.phase
        flying = phase in (P.PHASE_BRAKING, P.PHASE_APPROACH, P.PHASE_TERMINAL)
        mass = DRY_MASS + self.prop_mass
        az = ax = 0.0
        if flying and self.prop_mass > 0.0:
            az, ax = self._guidance(mass)
            a = math.sqrt(az * az + ax * ax)
            throttle = a * mass / THRUST_MAX
            throttle = min(max(throttle, THROTTLE_MIN), 1.0)
            self.throttle = throttle
            # The thrust axis turns toward the command no faster than the slew limit.
            turn = math.atan2(-ax, az) - self.pitch
            step = SLEW_MAX * dt
            self.pitch += max(-step, min(step, turn))
            a = throttle * THRUST_MAX / mass
            az = a * math.cos(self.pitch)
            ax = -a * math.sin(self.pitch)
            burn = throttle * THRUST_MAX / (ISP * G0) * dt
            self.prop_mass = max(self.prop_mass - burn, 0.0)
        else:
            self.throttle = 0.0
            az = ax = 0.0
        if phase != P.PHASE_LANDED and flying:
            self.vz += (az - G_MOON) * dt
            self.vx += ax * dt
            if self.vx < 0.0 and phase != P.PHASE_BRAKING:
                self.vx = max(self.vx, -0.5)
            self.h += self.vz * dt
            self.x += self.vx * dt
            if phase == P.PHASE_BRAKING and (self.vx < 40.0 or self.h < 2000.0):
                self.set_phase(P.PHASE_APPROACH)
            elif phase == P.PHASE_APPROACH and self.h < 30.0:
                self.set_phase(P.PHASE_TERMINAL)
            elif self.h <= 0.0:
                self.touchdown_vz = self.vz
                self.touchdown_vx = self.vx
                self.h = 0.0
                self.vz = 0.0
                self.vx = 0.0
                self.throttle = 0.0
                self.events(P.EVENT_ID_TOUCHDOWN, P.SEVERITY_INFO,
                            int(self.touchdown_vz * 1000), int(self.touchdown_vx * 1000),
                            int(self.prop_mass * 1000))
                self.set_phase(P.PHASE_LANDED)
        self._update_points(az, ax, dt)

    def _update_points(self, az, ax, dt):
        rng = self.rng
        nav = self.nav
        thrust = self.throttle * THRUST_MAX
        mass = DRY_MASS + self.prop_mass
        tilt = self.pitch
        # Rangefinder on the thrust axis: slant range, invalid beyond its range.
        c = math.cos(tilt)
        slant = self.h / c if c > 0.2 else LRF_MAX_RANGE * 2.0
        if slant <= LRF_MAX_RANGE:
            nav.lrf_range = slant * (1.0 + 0.002 * rng.gauss())
            nav.lrf_valid = P.LRF_VALID_VALID
            nav.nav_mode = P.NAV_MODE_RANGE_AIDED
        else:
            nav.lrf_valid = P.LRF_VALID_INVALID
            nav.nav_mode = P.NAV_MODE_INERTIAL
        nav.altitude = self.h + 0.5 * rng.gauss()
        nav.vel_vertical = self.vz + 0.05 * rng.gauss()
        nav.vel_horizontal = self.vx + 0.05 * rng.gauss()
        half = 0.5 * tilt
        nav.q_w = math.cos(half)
        nav.q_x = 0.0
        nav.q_y = math.sin(half)
        nav.q_z = 0.0
        prev = self._prev_pitch
        self._prev_pitch = tilt
        rate_y = math.degrees(tilt - prev) / dt if dt > 0.0 else 0.0
        nav.rate_x = 0.05 * rng.gauss()
        nav.rate_y = rate_y + 0.05 * rng.gauss()
        nav.rate_z = 0.05 * rng.gauss()
        accel = thrust / mass
        nav.accel_x = 0.01 * rng.gauss()
        nav.accel_y = 0.01 * rng.gauss()
        nav.accel_z = accel + 0.01 * rng.gauss()

        prop = self.prop
        used = 1.0 - self.prop_mass / PROP_MASS0
        # Blow-down: ullage grows as propellant leaves the tanks.
        p_bar = 18.0 - 2.5 * used
        prop.fuel_pressure = int((p_bar + 0.02 * rng.gauss()) / 0.0005)
        prop.ox_pressure = int((p_bar - 0.1 + 0.02 * rng.gauss()) / 0.0005)
        prop.fuel_temp = int((self.fuel_temp + 0.05 * rng.gauss()) * 100)
        prop.ox_temp = int((self.ox_temp + 0.05 * rng.gauss()) * 100)
        prop.propellant_mass = self.prop_mass
        prop.throttle = int(self.throttle * 1000)
        prop.thrust = thrust
        prop.engine = P.ENGINE_ON if thrust > 0.0 else P.ENGINE_OFF

        power = self.power
        current = 6.0 + (3.5 if thrust > 0.0 else 0.0) + 0.1 * rng.gauss()
        self.soc = max(self.soc - current * dt / 3600.0 / 40.0 * 100.0, 0.0)
        volts = 25.0 + 0.08 * self.soc - 0.05 * current
        power.battery_voltage = int(volts * 1000)
        power.battery_current = int(current * 100)
        power.state_of_charge = int(self.soc)
        power.solar_current = int((4.2 + 0.05 * rng.gauss()) * 1000)
