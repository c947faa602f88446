# The vehicle as it really is: the simulation's truth, which the sensors measure and the
# navigation estimates. A point mass in the plane of its orbit over a spherical Moon, with
# a throttled main engine, attitude reduced to the pitch of the thrust axis, regulated
# bipropellant tanks and a battery. Cheap enough for a Pico: a few dozen float operations
# and two trig calls a step, no allocation on the rp2 port (floats are immediate there).
#
# Published figures used (../shared/lander-facts.md):
#   Lunar GM 4902.80007 km^3/s^2, radius 1737.4 km: JPL Horizons, Moon (301), rev. 2016-07-26
#     (surface gravity GM/R^2 = 1.62 m/s^2).
#   Dry mass ~340 kg: ispace HAKUTO-R Series 1 lander, press release 2020-07-30.
#   Descent from a ~100 km circular orbit, powered descent from ~15-20 km: ispace M1 (2023)
#     and M2 (2025) statements; a 100 x 15 km descent orbit gives 1,692 m/s at perilune, as
#     Blue Ghost braked from ~1,676 m/s over a ~9-minute burn (NASA blog, 2025-03-02).
# Our assumptions, not published for that lander: 3,000 N main engine, Isp 320 s (typical of
# a bipropellant engine of its class), throttle 20-100 %, 380 kg of propellant at PDI (sized
# with the rocket equation: ~2.35 km/s of delta-v for ~1.9 km/s of descent plus reserve),
# 10 deg/s slew rate. Positions stay small numbers (altitude, not radius; distance from PDI)
# because a Pico's floats carry only 22 bits of mantissa.
import math

from micropython import const

GM = 4.90280007e12          # m^3/s^2 (JPL Horizons)
R_MOON = 1737400.0          # m (JPL Horizons)
G0 = 9.80665
DRY_MASS = 340.0            # kg (ispace Series 1)
PROP_MASS0 = 380.0          # kg at PDI (assumption)
THRUST_MAX = 3000.0         # N (assumption)
ISP = 320.0                 # s (assumption)
VE = ISP * G0               # effective exhaust velocity, m/s
THROTTLE_MIN = 0.2
SLEW_MAX = 0.1745           # rad/s (10 deg/s)
APOLUNE = 100000.0          # descent orbit, m above the datum
PERILUNE = 15000.0

# Propulsion: one lumped MMH/NTO tank volume fed by a helium pressurant bottle through a
# latch valve and a regulator (figures are ours, typical of the class).
P_REG = 18.0                # bar, regulated tank pressure
P_HE0 = 150.0               # bar, helium bottle at PDI
V_HE = 70.0                 # L
V_TANKS = 600.0             # L, fuel + oxidiser tanks
RHO = 1.18                  # kg/L, mean density of the propellant load at mixture ratio 1.65

# Battery: 8 Li-ion cells in series (24-33.2 V, the HK limits), 40 Ah.
CAPACITY_AH = 40.0
R_BATT = 0.08               # ohm
I_AVIONICS = 4.5            # A at 28 V
I_NONESSENTIAL = 3.0        # payload and survival heaters, shed by fault protection
I_ENGINE = 3.5              # valves, catalyst-bed and line heaters while the engine fires
I_LRF = 0.8

_LANDED = const(1)


class Vehicle:
    def __init__(self, rng, terrain):
        self.terrain = terrain
        # Engine-to-engine thrust dispersion, 1 % one sigma: the engine model that
        # navigation may fall back on is off by this much.
        self.thrust_scale = 1.0 + 0.01 * rng.gauss()
        self.h = PERILUNE       # altitude above the datum, m
        self.x = 0.0            # along-track distance from PDI, m
        self.vz = 0.0           # vertical velocity, m/s, up
        self.vx = 0.0           # horizontal velocity, m/s, downrange
        self.pitch = 1.5708     # thrust axis from the local vertical, rad; + = retrograde
        self.rate = 0.0         # pitch rate, rad/s
        self.accel = 0.0        # specific force along the thrust axis, m/s^2
        self.throttle = 0.0
        self.thrust = 0.0
        self.prop = PROP_MASS0
        self.state = 0          # 0 flying or coasting, _LANDED on the surface
        self.coasting = True    # True while the orbit is not yet placed (IDLE, ARMED)
        # Faults acting on the vehicle itself (not on a sensor).
        self.leak = 0.0             # propellant leak, kg/s
        self.regulator_stuck = 0.0  # regulator stuck open: tank pressure rise, bar/s
        self.battery_dv = 0.0       # volts lost (shorted cells)
        self.drain = 0.0            # extra battery current, A
        # Tanks.
        self.latch_closed = False
        self.p_tank = P_REG
        u = V_TANKS - PROP_MASS0 / RHO
        self.helium = P_HE0 * V_HE + P_REG * u     # bar*L, conserved while the latch is open
        self.p_he = P_HE0
        self.blowdown = 0.0                        # bar*L of the tanks once isolated
        self.fuel_temp = 21.0
        self.ox_temp = 20.5
        # Power.
        self.soc = 0.96
        self.shed = False
        self.lrf_on = True
        self.current = 0.0
        self.solar = 7.0
        self.voltage = 0.0
        self._power(0.0)
        self.place(60.0)

    def place(self, lead_s):
        # Put the vehicle on its 100 x 15 km descent orbit, lead_s seconds before perilune,
        # where PDI will be (Kepler's equation, solved once).
        ra = R_MOON + APOLUNE
        rp = R_MOON + PERILUNE
        a = 0.5 * (ra + rp)
        e = (ra - rp) / (ra + rp)
        mean = -math.sqrt(GM / (a * a * a)) * lead_s
        ecc = mean
        for _ in range(6):
            ecc -= (ecc - e * math.sin(ecc) - mean) / (1.0 - e * math.cos(ecc))
        r = a * (1.0 - e * math.cos(ecc))
        nu = 2.0 * math.atan2(math.sqrt(1.0 + e) * math.sin(0.5 * ecc),
                              math.sqrt(1.0 - e) * math.cos(0.5 * ecc))
        hmom = math.sqrt(GM * a * (1.0 - e * e))
        self.h = r - R_MOON
        self.vz = GM / hmom * e * math.sin(nu)
        self.vx = hmom / r
        self.x = R_MOON * nu
        self.pitch = 1.5708
        self.state = 0

    def mass(self):
        return DRY_MASS + self.prop

    def altitude(self):
        # True altitude above the terrain directly below.
        return self.h - self.terrain.height(self.x)

    def step(self, dt, throttle, pitch_cmd):
        if self.state == _LANDED:
            self.throttle = 0.0
            self.thrust = 0.0
            self.accel = 0.0
            self.rate = 0.0
            self._power(dt)
            return
        # Attitude: the thrust axis turns toward the command no faster than the slew limit.
        turn = pitch_cmd - self.pitch
        lim = SLEW_MAX * dt
        if turn > lim:
            turn = lim
        elif turn < -lim:
            turn = -lim
        self.pitch += turn
        self.rate = turn / dt
        # Engine and propellant (rocket equation, one step at a time).
        used = self.leak * dt
        if throttle > 0.0 and self.prop > 0.0:
            throttle = min(max(throttle, THROTTLE_MIN), 1.0)
            thrust = throttle * THRUST_MAX * self.thrust_scale
            used += thrust / VE * dt
        else:
            throttle = 0.0
            thrust = 0.0
        self.throttle = throttle
        self.thrust = thrust
        prop = self.prop - used
        if prop < 0.0:
            used += prop
            prop = 0.0
        self.prop = prop
        a = thrust / (DRY_MASS + prop)
        self.accel = a
        if not self.coasting:
            # Point mass in polar coordinates: gravity, centrifugal and Coriolis terms make
            # the unpowered motion an exact Kepler orbit.
            inv_r = 1.0 / (R_MOON + self.h)
            vx = self.vx
            vz = self.vz
            az = a * math.cos(self.pitch) - GM * inv_r * inv_r + vx * vx * inv_r
            ax = -a * math.sin(self.pitch) - vz * vx * inv_r
            vz += az * dt
            vx += ax * dt
            self.vz = vz
            self.vx = vx
            self.h += vz * dt
            self.x += vx * R_MOON * inv_r * dt
        if used > 0.0 or self.regulator_stuck > 0.0:
            self._tanks(dt, used)
        self._power(dt)

    def land(self):
        self.state = _LANDED
        self.vz = 0.0
        self.vx = 0.0
        self.h = self.terrain.height(self.x)

    def _tanks(self, dt, used):
        u0 = V_TANKS - (self.prop + used) / RHO
        u = V_TANKS - self.prop / RHO
        if self.latch_closed:
            # Isolated: the tanks blow down, pressure times ullage constant.
            self.p_tank = self.blowdown / u
            return
        p = self.p_tank
        if self.regulator_stuck > 0.0:
            # Helium keeps flowing past the stuck regulator until the pressures equalise.
            p += self.regulator_stuck * dt
            p = min(p, self.helium / (V_HE + u))
        elif p < P_REG or u != u0:
            p = max(p * u0 / u, P_REG) if p > P_REG else P_REG
        self.p_tank = p
        self.p_he = (self.helium - p * u) / V_HE

    def close_latch(self):
        if not self.latch_closed:
            self.latch_closed = True
            self.blowdown = self.p_tank * (V_TANKS - self.prop / RHO)

    def _power(self, dt):
        i = I_AVIONICS + self.drain
        if not self.shed:
            i += I_NONESSENTIAL
        if self.thrust > 0.0:
            i += I_ENGINE
        if self.lrf_on:
            i += I_LRF
        i -= self.solar
        self.current = i
        self.soc = max(self.soc - i * dt / 3600.0 / CAPACITY_AH, 0.0)
        self.voltage = 8.0 * (3.2 + 0.95 * self.soc) - self.battery_dv - i * R_BATT
