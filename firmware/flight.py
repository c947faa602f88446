# The flight software and the vehicle it flies, one step per control cycle: truth
# (firmware/vehicle.py over firmware/terrain.py), sensors (sensors.py), navigation (nav.py),
# fault protection (fdir.py), phases (phases.py) and guidance (guidance.py). It writes raw
# telemetry values into the packet points objects; the App sends them.
#
# Rates: truth, IMU, navigation propagation and attitude every cycle (50 Hz); guidance,
# rangefinder, tank and battery sensors, fault protection, phase conditions and the NAV
# points at 10 Hz, each in its own cycle of the five; PROP, POWER and TRUTH points at 2 Hz
# (the packets' default rates).
#
# Commands return 0 when done, or the TC_VERIFY reason code why not: arm(),
# start_descent(), abort(), safe(), inject_fault(target, kind, magnitude), clear_fault(target).
import math

import faults
import packets as P
from fdir import IMU_FAULT, LRF_FAULT, LRF_INHIBITED, LRF_LATE, RESPONSE_LRF_UNUSABLE, Fdir
from guidance import H_LOW, HOLD_MARGIN, HOVER_S, VX_GATE, Guidance
from nav import Nav
from noise import Rng
from phases import (
    T_ABORT,
    T_ARM,
    T_CONTACT,
    T_CRASH,
    T_HIGH_GATE,
    T_HOVER_DONE,
    T_LOW_GATE,
    T_NO_GO,
    T_ORBIT_REACHED,
    T_PDI,
    T_SAFE,
    T_START_DESCENT,
    Phases,
    powered,
)
from sensors import BatteryMonitor, Imu, Lrf, TankSensors
from terrain import Terrain
from vehicle import DRY_MASS, P_HE0, P_REG, PROP_MASS0, RHO, THRUST_MAX, V_HE, V_TANKS, VE, Vehicle

# Touchdown: design limits 2 m/s vertical, 0.5 m/s horizontal; test limits 3 and 1 m/s;
# slope 12 deg (Chandrayaan-3 Vikram, ISRO via Hindustan Times, Aug 2023). Beyond the test
# limits the vehicle is lost (CRASHED).
TD_VZ = 2.0
TD_VX = 0.5
TD_VZ_MAX = 3.0
TD_VX_MAX = 1.0
TD_SLOPE_MAX = 0.2126       # tan(12 deg)

_HOLD_ROWS = (1 << LRF_LATE) | (1 << LRF_FAULT) | (1 << LRF_INHIBITED)


class Flight:
    def __init__(self, points, events, seed=1, cfg=None):
        cfg = cfg or {}
        self.hk = points[P.HK]
        self.nav_tm = points[P.NAV]
        self.prop_tm = points[P.PROP]
        self.power_tm = points[P.POWER]
        self.truth_tm = points[P.TRUTH]
        self.events = events
        self.rng = Rng(seed)
        self.terrain = Terrain((cfg.get("terrain") or {}).get("points"))
        self.vehicle = Vehicle(self.rng, self.terrain)
        self.lrf = Lrf(self.rng, self.terrain)
        self.imu = Imu(self.rng)
        self.tanks = TankSensors(self.rng)
        self.battery = BatteryMonitor(self.rng)
        self.nav_cfg = cfg.get("nav") or {}
        self.nav = Nav(self.nav_cfg)
        self.guidance = Guidance()
        self.fdir = Fdir(cfg.get("fdir") or {}, events)
        self.phases = Phases(events, self._enter)
        self.phase = P.PHASE_IDLE
        self.pdi_lead_s = float(cfg.get("pdi_lead_s", 60))
        self.tick = 0
        self.phase_ticks = 0
        self.lrf_bit_ok = True
        # Propellant gauging: bookkeeping of the commanded flow, and pressure-volume-
        # temperature gauging from the helium and tank transducers.
        self.book0 = PROP_MASS0
        self.book = PROP_MASS0
        self.pvt = PROP_MASS0
        self.prop_gauge = PROP_MASS0
        self._helium = P_HE0 * V_HE + P_REG * (V_TANKS - PROP_MASS0 / RHO)
        # Loop overruns, reported by the App.
        self.overrun_score = 0.0
        self.last_overrun_us = 0
        self.shed_telemetry = None      # the App's load-shedding callback
        self.hk.phase = self.phase
        self._start_nav()
        self.tanks.measure(self.vehicle)
        self.battery.measure(self.vehicle)
        self._points_nav()
        self._points_slow()

    # Commands.

    def arm(self):
        return self.phases.fire(T_ARM)

    def start_descent(self):
        return self.phases.fire(T_START_DESCENT)

    def abort(self):
        return self.phases.fire(T_ABORT)

    def safe(self):
        if self.phase == P.PHASE_SAFE:
            return 0        # already there: asking again is not an error
        return self.phases.fire(T_SAFE)

    def inject_fault(self, target, kind, magnitude):
        r = faults.inject(self, target, kind, magnitude)
        if r == 0:
            try:
                milli = int(float(magnitude) * 1000)   # kinds without one ignore it
            except (TypeError, ValueError):
                milli = 0
            self.events(P.EVENT_ID_FAULT_INJECTED, P.SEVERITY_WARNING, target, kind,
                        max(-0x7FFFFFFF, min(milli, 0x7FFFFFFF)))
        return r

    def clear_fault(self, target):
        r = faults.clear(self, target)
        if r == 0:
            self.events(P.EVENT_ID_FAULT_CLEARED, P.SEVERITY_INFO, target, 0, 0)
        return r

    def note_overrun(self, us):
        # The App measured a control cycle longer than its budget.
        self.overrun_score += 1.0
        self.last_overrun_us = us

    # Phase entry actions (called by the state machine after each transition).

    def _enter(self, phase, trigger):
        self.phase = phase
        self.hk.phase = phase
        self.phase_ticks = 0
        v = self.vehicle
        if phase == P.PHASE_ARMED:
            self._set_mode(P.MODE_NOMINAL)
            self._bit()
        elif phase == P.PHASE_DESCENT_ORBIT:
            v.place(self.pdi_lead_s)
            v.coasting = False
            self._start_nav()
            self.nav.calibrating = True
            self._bit()
        elif phase == P.PHASE_BRAKING:
            self.nav.calibrating = False
            v.solar = 2.0           # arrays off the sun while the burn sets the attitude
        elif phase == P.PHASE_ABORT:
            self.guidance.choose_abort(self.nav, DRY_MASS + self.prop_gauge)
        elif phase == P.PHASE_SAFE:
            self._set_mode(P.MODE_SAFE)
            v.shed = True           # safe mode: survival loads only
            self.guidance.throttle = 0.0
            self.guidance.mode = P.GUIDANCE_MODE_OFF
        elif phase == P.PHASE_LANDED or phase == P.PHASE_CRASHED:
            v.land()
            v.solar = 6.0
            self.guidance.throttle = 0.0
            self.guidance.mode = P.GUIDANCE_MODE_OFF

    def _set_mode(self, mode):
        old = self.hk.mode
        if mode != old:
            self.hk.mode = mode
            self.events(P.EVENT_ID_MODE_CHANGE, P.SEVERITY_INFO, old, mode, 0)

    def _bit(self):
        self.lrf_bit_ok = self.lrf.bit()
        if self.lrf_bit_ok:
            self.events(P.EVENT_ID_LRF_BIT_PASSED, P.SEVERITY_INFO, 0, 0, 0)

    def _start_nav(self):
        # The ground's state vector at the start of the descent orbit, with its errors: orbit
        # determination and the map's height of the terrain below.
        v = self.vehicle
        g = self.rng.gauss
        c = self.nav_cfg
        sigma_h = float(c.get("h0_sigma", 150.0))
        sigma_v = float(c.get("v0_sigma", 0.3))
        err = c.get("h0_error")
        err = float(err) if err is not None else sigma_h * g()
        self.nav.start(v.altitude() + err, v.vz + sigma_v * g(), v.vx + 0.05 * g(), v.pitch,
                       max(sigma_h, abs(err)), sigma_v)

    # Fault protection's responses (fdir.py decides when).

    def resolve(self, row, response):
        if response == RESPONSE_LRF_UNUSABLE:
            if self.phase == P.PHASE_BRAKING and self.guidance.orbit_in_reach(
                    self.nav, DRY_MASS + self.prop_gauge):
                return P.RESPONSE_ABORT_TO_ORBIT
            return P.RESPONSE_HOLD_DESCENT
        if response == P.RESPONSE_LAND_NOW and self.guidance.mode == P.GUIDANCE_MODE_TO_ORBIT:
            return P.RESPONSE_NONE      # already leaving: nothing better to do
        if response == P.RESPONSE_SAFE and not self.phases.allowed(T_NO_GO):
            return P.RESPONSE_NONE
        return response

    def apply(self, row, response):
        if row == LRF_FAULT:
            self.nav.distrusted = True  # until its measurements agree again (nav.py)
        if response == P.RESPONSE_SAFE:
            self.phases.fire(T_NO_GO)
        elif response == P.RESPONSE_ABORT_TO_ORBIT:
            self.phases.fire(T_ABORT)
        elif response == P.RESPONSE_LAND_NOW:
            self.guidance.land_now = True
        elif response == P.RESPONSE_ISOLATE_PRESSURANT:
            self.vehicle.close_latch()
            self.phases.fire(T_NO_GO)   # before PDI, no descent on a failed regulator
        elif response == P.RESPONSE_SHED_LOADS:
            self.vehicle.shed = True
        elif response == P.RESPONSE_SHED_TELEMETRY:
            if self.shed_telemetry is not None:
                self.shed_telemetry()
        # HOLD_DESCENT and SWITCH_SOURCE follow the latched rows (see step()).

    # The cycle.

    def step(self, dt):
        self.tick += 1
        self.phase_ticks += 1
        slot = self.tick % 5
        phase = self.phase
        flying = powered(phase)
        v = self.vehicle
        g = self.guidance
        nav = self.nav
        if slot == 2 and flying:
            latched = self.fdir.latched
            g.hold = latched & _HOLD_ROWS != 0
            nav.source = (P.ACCEL_SOURCE_ENGINE_MODEL if latched & (1 << IMU_FAULT)
                          else P.ACCEL_SOURCE_IMU)
            g.steer(phase, nav, DRY_MASS + self.prop_gauge)
        v.step(dt, g.throttle if flying else 0.0, g.pitch)
        # Engine model: what the commanded throttle should give (navigation's fallback).
        flow = v.throttle * THRUST_MAX
        self.book -= flow / VE * dt
        self.imu.measure(v)
        if not v.coasting and v.state == 0:
            if nav.calibrating:
                nav.calibrate(self.imu)
            nav.propagate(dt, self.imu, flow / (DRY_MASS + self.prop_gauge), v.pitch)
        if flying and v.altitude() <= 0.0:
            self._touchdown()
        # The 10 Hz work, spread over the five cycles of each 100 ms so that no cycle
        # carries all of it: the rangefinder and NAV points in the cycle NAV is sent in.
        if slot == 0:
            self.lrf.measure(v)
            nav.update(self.lrf, self.events)
            self._points_nav()
        elif slot == 1:
            self.tanks.measure(v)
            self.battery.measure(v)
            self._gauge()
            self.overrun_score *= 0.8
            self.fdir.check(self)
            self.hk.fdir_flags = self.fdir.latched
            trigger = self._exit_condition()
            if trigger:
                self.phases.fire(trigger)
        elif slot == 4 and self.tick % 25 == 24:
            self._points_slow()     # PROP, POWER and TRUTH go out in the next cycle

    def _exit_condition(self):
        # The conditions that end a phase (the table in phases.py says where they lead).
        phase = self.phase
        nav = self.nav
        if phase == P.PHASE_DESCENT_ORBIT:
            return T_PDI if self.phase_ticks >= self.pdi_lead_s * 50 else 0
        if phase == P.PHASE_BRAKING:
            return T_HIGH_GATE if nav.vx <= VX_GATE else 0
        if phase == P.PHASE_APPROACH:
            h = nav.h - min(3.0 * nav.sigma(), HOLD_MARGIN) if self.guidance.hold else nav.h
            return T_LOW_GATE if h <= H_LOW else 0
        if phase == P.PHASE_ABORT:
            g = self.guidance
            if g.mode == P.GUIDANCE_MODE_TO_ORBIT:
                return T_ORBIT_REACHED if g.orbit_reached(nav) else 0
            if self.phase_ticks >= HOVER_S * 50 or g.land_now:
                return T_HOVER_DONE
        return 0

    def _touchdown(self):
        v = self.vehicle
        vz = v.vz
        vx = v.vx
        slope = abs(self.terrain.slope(v.x))
        ok = -vz <= TD_VZ_MAX and abs(vx) <= TD_VX_MAX and slope <= TD_SLOPE_MAX
        if -vz <= TD_VZ and abs(vx) <= TD_VX and slope <= TD_SLOPE_MAX:
            severity = P.SEVERITY_INFO
        else:
            severity = P.SEVERITY_WARNING if ok else P.SEVERITY_CRITICAL
        self.events(P.EVENT_ID_TOUCHDOWN, severity, int(vz * 1000), int(vx * 1000),
                    int(v.prop * 1000))
        self.phases.fire(T_CONTACT if ok else T_CRASH)

    def _gauge(self):
        t = self.tanks
        p = 0.5 * (t.fuel + t.ox + 0.1)
        v = self.vehicle
        if v.latch_closed or p <= 1.0:
            pvt = self.book     # isolated tanks: bookkeeping only
        else:
            ullage = (self._helium - t.helium * V_HE) / p
            pvt = (V_TANKS - ullage) * RHO
        self.pvt += 0.1 * (pvt - self.pvt)
        self.prop_gauge = max(min(self.book, self.pvt), 0.0)

    # Telemetry points.

    def _points_nav(self):
        tm = self.nav_tm
        nav = self.nav
        lrf = self.lrf
        imu = self.imu
        v = self.vehicle
        g = self.rng.gauss
        tm.altitude = nav.h
        tm.lrf_range = lrf.range
        tm.lrf_valid = P.LRF_VALID_VALID if lrf.valid else P.LRF_VALID_INVALID
        tm.nav_mode = nav.mode
        tm.vel_vertical = nav.vz
        tm.vel_horizontal = nav.vx
        half = 0.5 * v.pitch
        tm.q_w = math.cos(half)
        tm.q_y = math.sin(half)
        tm.rate_x = 0.05 * g()
        tm.rate_y = v.rate * 57.29578 + 0.05 * g()
        tm.rate_z = 0.05 * g()
        tm.accel_x = imu.fx
        tm.accel_y = 0.003 * g()
        tm.accel_z = imu.fz
        tm.innovation = nav.innovation
        tm.alt_sigma = nav.sigma()
        tm.lrf_rejects = nav.rejects & 0xFFFF
        tm.accel_source = nav.source
        tm.guidance_mode = self.guidance.mode

    def _points_slow(self):
        v = self.vehicle
        t = self.tanks
        prop = self.prop_tm
        prop.fuel_pressure = _u16(t.fuel / 0.0005)
        prop.ox_pressure = _u16(t.ox / 0.0005)
        prop.fuel_temp = int(t.fuel_temp * 100)
        prop.ox_temp = int(t.ox_temp * 100)
        prop.propellant_mass = self.prop_gauge
        prop.throttle = int(v.throttle * 1000)
        prop.thrust = v.throttle * THRUST_MAX
        prop.engine = P.ENGINE_ON if v.throttle > 0.0 else P.ENGINE_OFF
        prop.pressurant_pressure = _u16(t.helium * 100)
        prop.pressurant_latch = (P.PRESSURANT_LATCH_CLOSED if v.latch_closed
                                 else P.PRESSURANT_LATCH_OPEN)
        b = self.battery
        power = self.power_tm
        power.battery_voltage = _u16(b.voltage * 1000)
        power.battery_current = min(max(int(b.current * 100), -32768), 32767)
        power.state_of_charge = int(v.soc * 100)
        power.solar_current = _u16((v.solar + 0.05 * self.rng.gauss()) * 1000)
        power.loads = P.LOADS_SHED if v.shed else P.LOADS_NORMAL
        tr = self.truth_tm
        tr.altitude = v.altitude()
        tr.terrain = self.terrain.height(v.x)
        tr.downrange = v.x
        tr.vel_vertical = v.vz
        tr.vel_horizontal = v.vx
        tr.mass = DRY_MASS + v.prop
        tr.propellant = v.prop


def _u16(x):
    x = int(x)
    return 0 if x < 0 else (65535 if x > 65535 else x)
