# The vehicle as it really is: the simulation's truth, which the sensors measure and the
# flight software never reads. A point mass in the plane of its orbit over a spherical Moon,
# attitude reduced to the pitch of the thrust axis (turned at the rate the flight software
# commands), a throttleable main engine and pulsed thrusters fed by pressure-regulated
# bipropellant tanks that blow down once isolated, tank and electronics temperatures that
# follow the flight, and a battery.
#
# Every figure comes from the parameter set `p` (firmware/craft.py, from schemas/craft.toml,
# where each is sourced): the real vehicle, i.e. the data sheet with this seed's dispersions
# (world.py draws them). Positions stay small numbers (altitude, not radius; distance from
# PDI) because a Pico's floats carry only 22 bits of mantissa.
import math
from math import cos, sin

from micropython import const

_G0 = const(9.80665)
_LANDED = const(1)


class Vehicle:
    def __init__(self, p, terrain):
        self.terrain = terrain
        self.gm = p["moon_gm"]
        self.r_moon = p["moon_radius"]
        self.apolune = p["orbit_apolune"]
        self.perilune = p["orbit_perilune"]
        self.dry = p["mass_dry"]
        self.prop0 = p["mass_propellant"]
        self.f_main = p["main_engine_thrust"]
        self.isp_main = p["main_engine_isp"]
        self.main_min = p["main_engine_throttle_min"]
        self.blowdown_isp = p["main_engine_blowdown_isp"]
        self.tau_main = p["main_engine_response"]
        self.n_tdt = int(p["thrusters_count"])
        self.f_tdt = p["thrusters_thrust"]
        self.isp_tdt = p["thrusters_isp"]
        self.slew = p["attitude_slew_max"]
        self.p_reg = p["tanks_p_reg"]
        self.v_he = p["tanks_v_he"]
        self.v_tank = 0.5 * p["tanks_volume"]     # fuel and oxidiser tanks, each
        self.rho = p["tanks_rho"]
        self.temp0 = p["tanks_temp0"]
        self.capacity = p["power_capacity"]
        self.r_batt = p["power_r_batt"]
        self.i_avionics = p["power_i_avionics"]
        self.i_nonessential = p["power_i_nonessential"]
        self.i_engine = p["power_i_engine"]
        self.i_lrf = p["power_i_lrf"]
        # Products of fixed figures the 50 Hz step would otherwise form each cycle (the same
        # numbers, computed once): the thrusters' exhaust velocity, the main engine's at the
        # last feed pressure, the response's share of a cycle.
        self._ve_tdt = self.isp_tdt * _G0
        self._feed_at = -1.0
        self._ve_main = 0.0
        self._dt_at = -1.0
        self._k_main = 0.0
        self.h = self.perilune  # altitude above the datum, m
        self.x = 0.0            # along-track distance from PDI, m
        self.vz = 0.0           # vertical velocity, m/s, up
        self.vx = 0.0           # horizontal velocity, m/s, downrange
        self.pitch = 1.5708     # thrust axis from the local vertical, rad; + = retrograde
        self.rate = 0.0         # pitch rate, rad/s
        self.accel = 0.0        # specific force along the thrust axis, m/s^2
        self.thrust_main = 0.0  # N
        self.thrust_tdt = 0.0
        self.throttle = 0.0     # main-engine throttle the valve is at
        self.isolated_tdt = False
        self.prop = self.prop0
        self.state = 0          # 0 flying or coasting, _LANDED on the surface
        self.coasting = True    # True while the orbit is not yet placed (IDLE, ARMED)
        # Faults acting on the vehicle itself (not on a sensor); healthy values.
        self.leak = 0.0             # propellant leak, kg/s
        self.regulator_stuck = 0.0  # regulator stuck open: both tanks rise, bar/s
        self.ox_valve_stuck = 0.0   # oxidiser pressure valve stuck open (Peregrine), bar/s
        self.battery_dv = 0.0       # volts lost (shorted cells)
        self.drain = 0.0            # extra battery current, A
        self.main_scale = 1.0       # main-engine thrust against its command (loss or excess)
        self.throttle_stuck = 0.0   # throttle valve stuck at this position (0: free)
        self.no_cutoff = False      # the engine valve does not close on command (Luna-25)
        self.tdt_failed = 0         # thrusters that do not fire (SLIM lost an engine)
        # Tanks: each regulated to p_reg while the pressurant latch is open.
        self.latch_closed = False
        self.isolated = False       # main-engine isolation valve closed
        self.p_fuel = self.p_reg
        self.p_ox = self.p_reg
        u = self.v_tank - 0.5 * self.prop / self.rho
        self.helium = p["tanks_p_he0"] * self.v_he + 2.0 * self.p_reg * u   # bar*L
        self.p_he = p["tanks_p_he0"]
        self.fuel_temp = self.temp0
        self.ox_temp = self.temp0 - 0.5
        self.avionics_temp = p["power_avionics_temp0"]
        # Power.
        self.soc = 0.96
        self.shed = False
        self.lrf_on = True
        self.current = 0.0
        self.solar = 7.0
        self.voltage = 0.0
        self._power(0.0)
        self.place(p["orbit_pdi_lead"])

    def place(self, lead_s):
        # Put the vehicle on its descent orbit, lead_s seconds before perilune, where PDI
        # will be (Kepler's equation, solved once).
        gm = self.gm
        ra = self.r_moon + self.apolune
        rp = self.r_moon + self.perilune
        a = 0.5 * (ra + rp)
        e = (ra - rp) / (ra + rp)
        mean = -math.sqrt(gm / (a * a * a)) * lead_s
        ecc = mean
        for _ in range(6):
            ecc -= (ecc - e * math.sin(ecc) - mean) / (1.0 - e * math.cos(ecc))
        r = a * (1.0 - e * math.cos(ecc))
        nu = 2.0 * math.atan2(math.sqrt(1.0 + e) * math.sin(0.5 * ecc),
                              math.sqrt(1.0 - e) * math.cos(0.5 * ecc))
        hmom = math.sqrt(gm * a * (1.0 - e * e))
        self.h = r - self.r_moon
        self.vz = gm / hmom * e * math.sin(nu)
        self.vx = hmom / r
        self.x = self.r_moon * nu
        self.pitch = 1.5708
        self.state = 0

    def altitude(self):
        # True altitude above the terrain directly below.
        return self.h - self.terrain.height(self.x)

    def step(self, dt, bus):
        if self.state == _LANDED:
            self.thrust_main = 0.0
            self.thrust_tdt = 0.0
            self.throttle = 0.0
            self.accel = 0.0
            self.rate = 0.0
            return
        # Attitude: the commanded rate, within the slew limit.
        rate = bus.rate_cmd
        slew = self.slew
        if rate > slew:
            rate = slew
        elif rate < -slew:
            rate = -slew
        pitch = self.pitch + rate * dt
        self.pitch = pitch
        self.rate = rate
        self.latch_closed = bus.latch_close
        self.isolated = self.isolated or bus.main_isolated
        self.shed = bus.shed
        self.solar = 2.0 if bus.solar_off_sun else 7.0
        # Feed pressure against the regulated one: thrust follows it in blow-down.
        p = self.p_fuel if self.p_fuel < self.p_ox else self.p_ox
        feed = p / self.p_reg
        prop = self.prop
        dry = prop <= 0.0
        # Main engine: the valve opens to the commanded throttle (or stays where a stuck
        # throttle holds it, or stays open when it fails to close), thrust follows with the
        # engine's response time and the feed pressure.
        cmd = bus.main_cmd
        if cmd > 0.0:
            u = self.throttle_stuck if self.throttle_stuck > 0.0 else cmd
        elif self.no_cutoff and self.throttle > 0.0:
            u = self.throttle
        else:
            u = 0.0
        if self.isolated or dry:
            u = 0.0
        self.throttle = u
        target = u * self.f_main * self.main_scale * feed
        if dt != self._dt_at:
            self._dt_at = dt
            self._k_main = min(dt / self.tau_main, 1.0)
        thrust_main = self.thrust_main
        thrust_main += (target - thrust_main) * self._k_main
        self.thrust_main = thrust_main
        # Thrusters: on for the cycles the flight software fires them (it pulse-width
        # modulates them, engine.py).
        if bus.tdt_fire and not dry and not self.isolated_tdt:
            thrust_tdt = (self.n_tdt - self.tdt_failed) * self.f_tdt * feed
        else:
            thrust_tdt = 0.0
        self.thrust_tdt = thrust_tdt
        if feed != self._feed_at:
            # Specific impulse falls with the feed pressure in blow-down.
            self._feed_at = feed
            isp = self.isp_main * (1.0 - self.blowdown_isp * (1.0 - min(feed, 1.0)))
            self._ve_main = isp * _G0
        used = (self.leak + thrust_main / self._ve_main + thrust_tdt / self._ve_tdt) * dt
        prop -= used
        if prop < 0.0:
            used += prop
            prop = 0.0
        self.prop = prop
        a = (thrust_main + thrust_tdt) / (self.dry + prop)
        self.accel = a
        if not self.coasting:
            # Point mass in polar coordinates: gravity, centrifugal and Coriolis terms make
            # the unpowered motion an exact Kepler orbit.
            r_moon = self.r_moon
            inv_r = 1.0 / (r_moon + self.h)
            vx = self.vx
            vz = self.vz
            az = a * cos(pitch) - self.gm * inv_r * inv_r + vx * vx * inv_r
            ax = -a * sin(pitch) - vz * vx * inv_r
            vz += az * dt
            vx += ax * dt
            self.vz = vz
            self.vx = vx
            self.h += vz * dt
            self.x += vx * r_moon * inv_r * dt
        if used > 0.0 or self.regulator_stuck > 0.0 or self.ox_valve_stuck > 0.0:
            self._tanks(dt, used)

    def slow(self, dt):
        # Power and temperatures, at 10 Hz: they change over seconds.
        self._power(dt)
        self._thermal(dt)

    def land(self):
        self.state = _LANDED
        self.vz = 0.0
        self.vx = 0.0
        self.h = self.terrain.height(self.x)

    def _tanks(self, dt, used):
        u0 = self.v_tank - 0.5 * (self.prop + used) / self.rho
        u = self.v_tank - 0.5 * self.prop / self.rho
        if self.latch_closed:
            # Isolated: each tank blows down, pressure times ullage constant.
            self.p_fuel *= u0 / u
            self.p_ox *= u0 / u
            return
        helium = self.helium
        cap = helium / (self.v_he + 2.0 * u)    # all volumes at one pressure
        self.p_fuel = self._regulate(self.p_fuel, u0, u, self.regulator_stuck, cap, dt)
        self.p_ox = self._regulate(self.p_ox, u0, u,
                                   self.regulator_stuck + self.ox_valve_stuck, cap, dt)
        self.p_he = (helium - (self.p_fuel + self.p_ox) * u) / self.v_he

    def _regulate(self, p, u0, u, stuck, cap, dt):
        if stuck > 0.0:
            # Helium keeps flowing past the stuck valve until the pressures equalise.
            return min(p + stuck * dt, cap)
        if p > self.p_reg:
            return max(p * u0 / u, self.p_reg)
        return self.p_reg

    def _power(self, dt):
        i = self.i_avionics + self.drain
        if not self.shed:
            i += self.i_nonessential
        if self.thrust_main > 0.0 or self.thrust_tdt > 0.0:
            i += self.i_engine
        if self.lrf_on:
            i += self.i_lrf
        i -= self.solar
        self.current = i
        self.soc = max(self.soc - i * dt / 3600.0 / self.capacity, 0.0)
        self.voltage = 8.0 * (3.2 + 0.95 * self.soc) - self.battery_dv - i * self.r_batt

    def _thermal(self, dt):
        # First-order lags toward where the flight drives them: the tanks warm with the
        # engine's soak-back and cool as the pressurant expands in blow-down (about 10 degC
        # from full to half pressure); the electronics warm with the power they draw.
        firing = 4.0 if self.thrust_main > 0.0 else 0.0
        drop = self.p_reg - (self.p_fuel if self.p_fuel < self.p_ox else self.p_ox)
        cool = 0.55 * drop if drop > 0.0 else 0.0
        k = dt / 300.0
        self.fuel_temp += (self.temp0 + firing - cool - self.fuel_temp) * k
        self.ox_temp += (self.temp0 - 0.5 + firing - cool - self.ox_temp) * k
        watts = 28.0 * (self.i_avionics + self.drain + (0.0 if self.shed else 1.0))
        self.avionics_temp += (self.temp0 + 0.12 * watts - self.avionics_temp) * dt / 600.0
