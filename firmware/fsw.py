# The flight software: phases (phases.py), navigation and attitude (nav.py), guidance
# (guidance.py), propulsion (engine.py), fault protection (fdir.py), propellant gauging and
# touchdown detection, and the telemetry points it owns. It sees the vehicle only through
# the bus (bus.py), knows it only by its data sheet (craft.py via world.datasheet, given to
# it as a plain dict), and never imports the truth model; a test checks that.
#
# Rates: attitude, navigation propagation and the engine estimate every cycle (50 Hz);
# guidance and allocation, rangefinder and aids, fault protection, phase conditions and the
# NAV points at 10 Hz, each in its own cycle of the five; PROP and POWER points at 2 Hz.
import math

import packets as P
from engine import Engine
from fdir import RESPONSE_LRF_UNUSABLE, Fdir
from guidance import H_LOW, HOVER_S, VX_GATE, Guidance
from micropython import const
from nav import Attitude, Nav
from phases import Phases, powered

_HOLD_ROWS = (1 << P.FDIR_ROW_LRF_LATE) | (1 << P.FDIR_ROW_LRF_FAULT)
_NO_ALTIMETER_ROWS = _HOLD_ROWS | (1 << P.FDIR_ROW_LRF_INHIBITED)
_K_ATT = const(2.0)         # 1/s: attitude loop gain (rate command per radian of error)


class Fsw:
    def __init__(self, points, events, bus, p, cfg):
        self.hk = points[P.HK]
        self.nav_tm = points[P.NAV]
        self.prop_tm = points[P.PROP]
        self.power_tm = points[P.POWER]
        self.events = events
        self.bus = bus
        self.dry = p["mass_dry"]
        self.slew = p["attitude_slew_max"]
        self.nav_cfg = cfg.get("nav") or {}
        self.nav = Nav(self.nav_cfg, p)
        self.att = Attitude()
        self.engine = Engine(p)
        self.guidance = Guidance(p)
        self.fdir = Fdir(cfg.get("fdir") or {}, events)
        self.guidance.margin = not self.fdir.disabled & (1 << P.FDIR_ROW_LRF_LATE)
        self.phases = Phases(events, self._enter)
        self.phase = P.PHASE_IDLE
        self.pdi_lead_s = float(cfg.get("pdi_lead_s", p["orbit_pdi_lead"]))
        self.tick = 0
        self.phase_ticks = 0
        self.on_phase = None        # the simulation's hook (flight.py): entering a phase
        # Propellant gauging: bookkeeping of the estimated flow, and pressure-volume-
        # temperature gauging from the helium and tank transducers.
        prop0 = p["mass_propellant"]
        self.rho = p["tanks_rho"]
        self.v_tanks = p["tanks_volume"]
        self.v_he = p["tanks_v_he"]
        self.book0 = prop0
        self.book = prop0
        self.pvt = prop0
        self.prop_gauge = prop0
        self._helium = p["tanks_p_he0"] * self.v_he + p["tanks_p_reg"] * (
            self.v_tanks - prop0 / self.rho)
        self.need = 0.0             # propellant a landing from here needs (guidance)
        self.latch_cycling = False
        self.p_reg = p["tanks_p_reg"]
        self.imu_resets = 0
        self.reset_age = 1000       # 10 Hz samples since the IMU last reset
        self.capacity = p["power_capacity"]
        self.soc = 0.96             # coulomb counting from the ground's value at boot
        self.he_rate = 0.0          # smoothed helium pressure change, bar/s
        self._he_last = 0.0
        self.overrun_score = 0.0
        self.last_overrun_us = 0
        self.shed_telemetry = None  # the App's load-shedding callback
        self.hk.phase = self.phase
        self.hk.fdir_disabled = self.fdir.disabled

    # Commands.

    def arm(self):
        return self.phases.fire(P.TRIGGER_ARM)

    def start_descent(self):
        return self.phases.fire(P.TRIGGER_START_DESCENT)

    def abort(self):
        return self.phases.fire(P.TRIGGER_ABORT)

    def safe(self):
        if self.phase == P.PHASE_SAFE:
            return 0        # already there: asking again is not an error
        return self.phases.fire(P.TRIGGER_SAFE)

    def start_nav(self, h, vz, vx, sigma_h, sigma_v):
        # The ground's state vector (orbit determination, the map's height below).
        self.nav.start(h, vz, vx, self.att.pitch, sigma_h, sigma_v)

    # Phase entry actions (called by the state machine after each transition).

    def _enter(self, phase, trigger):
        self.phase = phase
        self.hk.phase = phase
        self.phase_ticks = 0
        bus = self.bus
        if phase == P.PHASE_ARMED:
            self._set_mode(P.MODE_NOMINAL)
        elif phase == P.PHASE_DESCENT_ORBIT:
            self.nav.calibrating = True
        elif phase == P.PHASE_BRAKING:
            self.nav.calibrating = False
            bus.solar_off_sun = True
        elif phase == P.PHASE_ABORT:
            self.guidance.choose_abort(self.nav, self.dry + self.prop_gauge)
        elif phase == P.PHASE_SAFE:
            self._set_mode(P.MODE_SAFE)
            bus.shed = True         # safe mode: survival loads only
            self._engines_off()
        elif phase == P.PHASE_LANDED or phase == P.PHASE_CRASHED:
            self._engines_off()
            bus.solar_off_sun = False
        if self.on_phase is not None:
            self.on_phase(phase)
        if phase == P.PHASE_ARMED or phase == P.PHASE_DESCENT_ORBIT:
            self._bit()

    def _engines_off(self):
        self.guidance.force = 0.0
        self.guidance.mode = P.GUIDANCE_MODE_OFF
        self.bus.main_cmd = 0.0
        self.bus.tdt_duty = 0.0
        self.bus.tdt_fire = False

    def _set_mode(self, mode):
        old = self.hk.mode
        if mode != old:
            self.hk.mode = mode
            self.events(P.EVENT_ID_MODE_CHANGE, P.SEVERITY_INFO, old, mode, 0)

    def _bit(self):
        if self.bus.lrf_bit:
            self.events(P.EVENT_ID_LRF_BIT_PASSED, P.SEVERITY_INFO, 0, 0, 0)

    # Fault protection's responses (fdir.py decides when).

    def resolve(self, row, response):
        if row == P.FDIR_ROW_LRF_INHIBITED and (self.nav.ndl_mode or self.nav.optical):
            return P.RESPONSE_NONE      # a fallback altimeter is loaded: go on with it (IM-1)
        if response == RESPONSE_LRF_UNUSABLE:
            if self.phase == P.PHASE_BRAKING and self.guidance.orbit_in_reach(
                    self.nav, self.dry + self.prop_gauge):
                return P.RESPONSE_ABORT_TO_ORBIT
            return P.RESPONSE_HOLD_DESCENT
        if response == P.RESPONSE_LAND_NOW and self.guidance.mode == P.GUIDANCE_MODE_TO_ORBIT:
            return P.RESPONSE_NONE      # already leaving: nothing better to do
        if response == P.RESPONSE_SAFE and not self.phases.allowed(P.TRIGGER_NO_GO):
            return P.RESPONSE_NONE
        return response

    def apply(self, row, response):
        bus = self.bus
        eng = self.engine
        if row == P.FDIR_ROW_LRF_FAULT:
            self.nav.distrusted = True  # until its measurements agree again (nav.py)
        if response == P.RESPONSE_SAFE:
            self.phases.fire(P.TRIGGER_NO_GO)
        elif response == P.RESPONSE_ABORT_TO_ORBIT:
            self.phases.fire(P.TRIGGER_ABORT)
        elif response == P.RESPONSE_LAND_NOW:
            self.guidance.land_now = True
        elif response == P.RESPONSE_ISOLATE_PRESSURANT:
            bus.latch_close = True
            self.latch_cycling = True
            self.phases.fire(P.TRIGGER_NO_GO)   # before PDI, no descent on a failed regulator
        elif response == P.RESPONSE_SHED_LOADS:
            bus.shed = True
        elif response == P.RESPONSE_SHED_TELEMETRY:
            if self.shed_telemetry is not None:
                self.shed_telemetry()
        elif response == P.RESPONSE_RECALIBRATE_ENGINE:
            self.fdir.recalibrate(self)
        elif response == P.RESPONSE_MAIN_ON_OFF:
            eng.stuck_at = max(eng.pc_fraction(bus) / max(eng.feed, 0.3), eng.floor)
        elif response == P.RESPONSE_ISOLATE_MAIN:
            eng.isolated = True
            bus.main_isolated = True
        # HOLD_DESCENT and SWITCH_SOURCE follow the latched rows (see step()).

    # The cycle.

    def step(self, dt):
        self.tick += 1
        self.phase_ticks += 1
        slot = self.tick % 5
        phase = self.phase
        flying = powered(phase)
        bus = self.bus
        g = self.guidance
        nav = self.nav
        eng = self.engine
        att = self.att
        if slot == 2 and flying:
            latched = self.fdir.latched
            g.hold = latched & _HOLD_ROWS != 0
            nav.no_altimeter = latched & _NO_ALTIMETER_ROWS != 0 or not bus.lrf_armed
            nav.source = (P.ACCEL_SOURCE_ENGINE_MODEL if latched & (1 << P.FDIR_ROW_IMU_FAULT)
                          else P.ACCEL_SOURCE_IMU)
            g.f_max = eng.max_force(phase == P.PHASE_BRAKING or g.mode == P.GUIDANCE_MODE_TO_ORBIT)
            g.steer(phase, nav, self.dry + self.prop_gauge)
            eng.allocate(g.force, bus, g.f_max)
        # Attitude: integrate the gyro, command a rate toward guidance's pitch.
        att.propagate(bus, dt)
        if phase != P.PHASE_LANDED and phase != P.PHASE_CRASHED:
            r = (g.pitch - att.pitch) * _K_ATT
            slew = self.slew
            bus.rate_cmd = r if -slew < r < slew else (slew if r > 0.0 else -slew)
        else:
            bus.rate_cmd = 0.0
        eng.estimate(bus, dt)
        self.book -= eng.flow * dt
        if phase != P.PHASE_IDLE and phase != P.PHASE_ARMED and phase != P.PHASE_LANDED:
            if nav.calibrating:
                nav.calibrate(bus)
            nav.propagate(dt, bus, (eng.main_est + eng.tdt_est) / (self.dry + self.prop_gauge),
                          att.pitch)
        if flying and bus.contact:
            # The legs' switches: engines off, landed.
            self._engines_off()
            self.phases.fire(P.TRIGGER_CONTACT)
        if slot == 0:
            att.correct(bus, nav.calibrating)
            nav.update(bus, self.events)
            self._points_nav()
        elif slot == 1:
            if self.latch_cycling:
                self._cycle_latch()
            self._gauge()
            self.soc -= bus.batt_i * 0.1 / 3600.0 / self.capacity
            self.need = g.landing_need(nav, self.dry + self.prop_gauge)
            self.overrun_score *= 0.8
            if bus.imu_resets != self.imu_resets:
                self.imu_resets = bus.imu_resets
                self.reset_age = 0
            elif self.reset_age < 1000:
                self.reset_age += 1
            self.fdir.check(self)
            self.hk.fdir_flags = self.fdir.latched
            trigger = self._exit_condition()
            if trigger:
                self.phases.fire(trigger)
        elif slot == 4 and self.tick % 25 == 24:
            self._points_slow()     # PROP and POWER go out in the next cycle

    def _exit_condition(self):
        # The conditions that end a phase (the table in phases.py says where they lead).
        phase = self.phase
        nav = self.nav
        if phase == P.PHASE_DESCENT_ORBIT:
            return P.TRIGGER_PDI if self.phase_ticks >= self.pdi_lead_s * 50 else 0
        if phase == P.PHASE_BRAKING:
            return P.TRIGGER_HIGH_GATE if nav.vx <= VX_GATE else 0
        if phase == P.PHASE_APPROACH:
            return P.TRIGGER_LOW_GATE if self.guidance.h_cons <= H_LOW else 0
        if phase == P.PHASE_ABORT:
            g = self.guidance
            if g.mode == P.GUIDANCE_MODE_TO_ORBIT:
                return P.TRIGGER_ORBIT_REACHED if g.orbit_reached(nav) else 0
            if self.phase_ticks >= HOVER_S * 50 or g.land_now:
                return P.TRIGGER_HOVER_DONE
        return 0

    def _cycle_latch(self):
        # After ISOLATE_PRESSURANT the tanks blow down; the latch is reopened for a top-up
        # when the lower tank falls 1.5 bar under the regulated pressure and closed again at
        # 2 bar over it (a failed regulator, flown by hand), unless that overpressure row
        # is still latched.
        bus = self.bus
        low = bus.fuel_p if bus.fuel_p < bus.ox_p else bus.ox_p
        high = bus.fuel_p if bus.fuel_p > bus.ox_p else bus.ox_p
        if bus.latch_close:
            if low < self.p_reg - 1.5 and not self.fdir.is_latched(P.FDIR_ROW_TANK_OVERPRESSURE):
                bus.latch_close = False
        elif high > self.p_reg + 2.0:
            bus.latch_close = True

    def _gauge(self):
        bus = self.bus
        p = 0.5 * (bus.fuel_p + bus.ox_p + 0.1)
        he = bus.he_p
        self.he_rate += 0.1 * ((he - self._he_last) * 10.0 - self.he_rate)
        self._he_last = he
        if self.latch_cycling or p <= 1.0:
            pvt = self.book     # isolated tanks: bookkeeping only
        else:
            ullage = (self._helium - he * self.v_he) / p
            pvt = (self.v_tanks - ullage) * self.rho
        self.pvt += 0.1 * (pvt - self.pvt)
        self.prop_gauge = max(min(self.book, self.pvt), 0.0)

    # Telemetry points.

    def points(self):
        # All of them at once (at boot, before any is sent).
        self._points_nav()
        self._points_slow()

    def _points_nav(self):
        tm = self.nav_tm
        nav = self.nav
        bus = self.bus
        tm.altitude = nav.h
        tm.lrf_range = bus.lrf_range
        tm.lrf_valid = P.LRF_VALID_VALID if bus.lrf_valid else P.LRF_VALID_INVALID
        tm.nav_mode = nav.mode
        tm.vel_vertical = nav.vz
        tm.vel_horizontal = nav.vx
        half = 0.5 * self.att.pitch
        tm.q_w = math.cos(half)
        tm.q_y = math.sin(half)
        tm.rate_y = (bus.imu_rate - self.att.bias) * 57.29578
        tm.accel_x = bus.imu_fx
        tm.accel_z = bus.imu_fz
        tm.innovation = nav.innovation
        tm.alt_sigma = nav.sigma()
        tm.lrf_rejects = nav.rejects & 0xFFFF
        tm.accel_source = nav.source
        tm.guidance_mode = self.guidance.mode
        tm.lrf_state = nav.lrf_state(bus)
        tm.lrf_return = bus.lrf_return
        tm.lrf_armed = P.LRF_ARMED_ARMED if bus.lrf_armed else P.LRF_ARMED_PLUGGED
        tm.vz_sigma = math.sqrt(nav.p_vv) if nav.p_vv > 0.0 else 0.0
        tm.vx_sigma = math.sqrt(nav.p_xx) if nav.p_xx > 0.0 else 0.0
        tm.aid = nav.aid
        tm.star_tracker = P.STAR_TRACKER_TRACKING if bus.st_valid else P.STAR_TRACKER_LOST

    def _points_slow(self):
        bus = self.bus
        eng = self.engine
        prop = self.prop_tm
        prop.fuel_pressure = _u16(bus.fuel_p / 0.0005)
        prop.ox_pressure = _u16(bus.ox_p / 0.0005)
        prop.fuel_temp = int(bus.fuel_t * 100)
        prop.ox_temp = int(bus.ox_t * 100)
        prop.propellant_mass = self.prop_gauge
        prop.throttle = int(bus.main_cmd * 1000)
        prop.thrust = eng.thrust()
        prop.engine = P.ENGINE_ON if bus.main_cmd > 0.0 else P.ENGINE_OFF
        prop.pressurant_pressure = _u16(bus.he_p * 100)
        prop.pressurant_latch = (P.PRESSURANT_LATCH_CLOSED if bus.latch_close
                                 else P.PRESSURANT_LATCH_OPEN)
        prop.chamber_pressure = bus.pc
        prop.throttle_achieved = int(eng.pc_fraction(bus) * 1000)
        prop.thruster_duty = int(bus.tdt_duty * 1000)
        prop.propellant_needed = self.need
        power = self.power_tm
        power.battery_voltage = _u16(bus.batt_v * 1000)
        power.battery_current = min(max(int(bus.batt_i * 100), -32768), 32767)
        power.state_of_charge = min(max(int(self.soc * 100), 0), 100)
        power.solar_current = _u16(bus.solar_i * 1000)
        power.loads = P.LOADS_SHED if bus.shed else P.LOADS_NORMAL
        power.avionics_temp = int(bus.avionics_t * 100)


def _u16(x):
    x = int(x)
    return 0 if x < 0 else (65535 if x > 65535 else x)
