# Guidance: from the navigation estimate to a throttle and a thrust-axis pitch, one law per
# phase, run at 10 Hz (attitude follows at its slew limit every cycle).
#
#   BRAKING   full thrust; the horizontal part brakes, the vertical part tracks a descent
#             that reaches the high gate (_H_GATE) as the horizontal speed reaches VX_GATE
#             (Blue Ghost: ~9-minute braking burn, ~1,676 to ~40 m/s, NASA blog 2025-03-02).
#   APPROACH  a glide toward the low gate, vertical speed sqrt(2 _A_APP (h - H_LOW)) + _V_LOW
#             and horizontal speed shrinking with it, thrust axis within 35 deg of vertical so
#             the rangefinder sees the ground (an Apollo P64-like approach phase).
#   TERMINAL  straight down from the low gate to touchdown at _V_TD = 1 m/s (Blue Ghost and
#             IM-1 planned ~1 m/s), horizontal speed nulled. Design limits at touchdown: 2 m/s
#             vertical, 0.5 m/s horizontal (Chandrayaan-3 Vikram, ISRO, Aug 2023).
# Modes set by fault protection (firmware/fdir.py):
#   HOLD_DESCENT  the altimeter is late or unusable: fly the profile on a conservative
#                 altitude (estimate less 1.5 sigma, at most HOLD_MARGIN less) and never
#                 descend faster than _V_HOLD, so that however wrong the inertial altitude
#                 is, a late first measurement still leaves room to brake (ispace M2).
#   LAND_NOW      propellant low or leaking: a steeper profile that spends less on gravity.
#   HOVER / TO_ORBIT  what ABORT does: a burn back to a safe orbit while that is within the
#                 remaining delta-v, else a hover, then a landing.
#
# Guidance asks a force along the thrust axis (firmware/engine.py turns it into valve
# commands) and a pitch; it knows the vehicle only by its data sheet (firmware/craft.py).
import math

import packets as P
from micropython import const

_G0 = const(9.80665)

_H_GATE = const(2500.0)     # m, high gate (end of braking)
VX_GATE = const(60.0)       # m/s
H_LOW = const(40.0)         # m, low gate (start of the terminal descent)
_V_LOW = const(3.0)         # m/s, descent speed at the low gate
_V_TD = const(1.0)          # m/s, touchdown speed
_A_APP = const(0.55)        # m/s^2, deceleration of the approach profile
_V_HOLD = const(10.0)       # m/s, fastest descent while the altimeter is missing
HOLD_MARGIN = const(1000.0)  # m, most the altitude is lowered by while the altimeter is missing
_ORBIT_SAFE = const(12000.0)  # m, perilune that ends an abort to orbit
HOVER_S = const(20)         # s of hover before an abort-to-hover lands

_K_BRAKE = const(0.25)
_K_Z = const(0.6)
_K_X = const(0.4)
_TAN_APP = const(0.7)       # tan(35 deg)
_TAN_TERM = const(0.27)     # tan(15 deg)


class Guidance:
    def __init__(self, p):
        self.gm = p["moon_gm"]
        self.r_moon = p["moon_radius"]
        self.dry = p["mass_dry"]
        self.ve = p["main_engine_isp"] * _G0
        self.f_max = 1.0        # N the engines can give now (set by the flight software)
        self.mode = P.GUIDANCE_MODE_OFF
        self.force = 0.0
        self.pitch = 1.5708     # braking attitude while coasting: thrust axis horizontal
        self.hold = False       # HOLD_DESCENT asked by fault protection
        self.margin = True      # the pre-acquisition altitude margin (off with LRF_LATE)
        self.h_cons = 0.0       # the altitude the profile is flown on
        self.land_now = False

    def steer(self, phase, nav, mass):
        # Set force and pitch for one 10 Hz guidance step. Until an altimeter has been
        # accepted (and while one is missing, HOLD_DESCENT), the profile is flown on a
        # conservative altitude: the estimate less 1.5 sigma, at most HOLD_MARGIN less, so
        # that a first range that comes late finds the vehicle still able to brake (the
        # margin is part of the LRF_LATE protection and goes with it).
        h = nav.h
        if self.hold or (self.margin and not nav.first_valid and not nav.ndl_used):
            h -= min(1.5 * nav.sigma(), HOLD_MARGIN)
        self.h_cons = h
        vz = nav.vz
        vx = nav.vx
        inv_r = 1.0 / (self.r_moon + h)
        g = self.gm * inv_r * inv_r - vx * vx * inv_r     # gravity less centrifugal
        a_max = self.f_max / mass
        if phase == P.PHASE_BRAKING:
            self.mode = P.GUIDANCE_MODE_NOMINAL
            t_go = max((vx - VX_GATE) / (0.85 * a_max), 1.0)
            # Never faster down than the approach profile allows at this altitude.
            floor = -(math.sqrt(2.0 * _A_APP * max(h - H_LOW, 0.0)) + _V_LOW)
            vz_ref = min(max(-(h - _H_GATE) / t_go, floor), 10.0)
            az = min(max(g + _K_BRAKE * (vz_ref - vz), 0.0), 0.6 * a_max)
            ax = -math.sqrt(a_max * a_max - az * az)
            self._out(az, ax, mass, 1.0)
            return
        if phase == P.PHASE_ABORT:
            if self.mode == P.GUIDANCE_MODE_TO_ORBIT:
                vz_ref = min(max((_ORBIT_SAFE + 3000.0 - h) / 60.0, -5.0), 30.0)
                az = min(max(g + _K_BRAKE * (vz_ref - vz), 0.0), 0.8 * a_max)
                self._out(az, math.sqrt(a_max * a_max - az * az), mass, 1.0)
            else:
                self.mode = P.GUIDANCE_MODE_HOVER
                self._track(0.0, 0.0, vz, vx, g, mass, _TAN_APP)
            return
        if phase == P.PHASE_APPROACH or phase == P.PHASE_TERMINAL:
            if self.hold:
                self.mode = P.GUIDANCE_MODE_HOLD_DESCENT
            elif self.land_now:
                self.mode = P.GUIDANCE_MODE_LAND_NOW
            else:
                self.mode = P.GUIDANCE_MODE_NOMINAL
            hh = h - H_LOW
            ff = 0.0
            if hh > 0.0:
                # The profile's deceleration, within what the engines can give.
                accel = 0.5 * (a_max - g) if self.land_now else min(_A_APP, 0.6 * (a_max - g))
                if accel < 0.1:
                    accel = 0.1
                vz_ref = -(math.sqrt(2.0 * accel * hh) + _V_LOW)
                ff = accel      # the profile's own deceleration, fed forward
                # Horizontal speed shrinks with height and never grows again.
                frac = hh / (_H_GATE - H_LOW) if hh < _H_GATE - H_LOW else 1.0
                vx_ref = min(VX_GATE * frac, max(vx, 0.0)) if phase == P.PHASE_APPROACH else 0.0
                tilt = _TAN_APP
            else:
                vz_ref = -(_V_TD + (_V_LOW - _V_TD) * max(h, 0.0) / H_LOW)
                vx_ref = 0.0
                tilt = _TAN_TERM
            if self.hold and vz_ref < -_V_HOLD:
                vz_ref = -_V_HOLD
                ff = 0.0
            self._track(vz_ref, vx_ref, vz, vx, g + ff, mass, tilt)
            return
        self.mode = P.GUIDANCE_MODE_OFF
        self.force = 0.0

    def _track(self, vz_ref, vx_ref, vz, vx, g, mass, tilt):
        az = max(g + _K_Z * (vz_ref - vz), 0.05)
        ax = _K_X * (vx_ref - vx)
        lim = az * tilt
        ax = min(max(ax, -lim), lim)
        self._out(az, ax, mass, 0.0)

    def _out(self, az, ax, mass, floor):
        a = math.sqrt(az * az + ax * ax)
        self.force = max(a * mass, floor * self.f_max)
        self.pitch = math.atan2(-ax, az)

    def orbit_in_reach(self, nav, mass):
        # The remaining delta-v covers the speed still missing to orbit, with margin for
        # gravity losses.
        r = self.r_moon + nav.h
        need = math.sqrt(self.gm / r) - nav.vx + 300.0
        have = self.ve * math.log(mass / self.dry) if mass > self.dry else 0.0
        return have > 1.1 * need

    def choose_abort(self, nav, mass):
        # ABORT: back to orbit while it is within reach, else hover.
        if self.orbit_in_reach(nav, mass):
            self.mode = P.GUIDANCE_MODE_TO_ORBIT
        else:
            self.mode = P.GUIDANCE_MODE_HOVER

    def orbit_reached(self, nav):
        # Osculating perilune above _ORBIT_SAFE: the abort burn is done.
        r = self.r_moon + nav.h
        energy = 0.5 * (nav.vx * nav.vx + nav.vz * nav.vz) - self.gm / r
        if energy >= 0.0:
            return True
        gm = self.gm
        a = -gm / (2.0 * energy)
        hm = r * nav.vx
        e = math.sqrt(max(1.0 + 2.0 * energy * hm * hm / (gm * gm), 0.0))
        return a * (1.0 - e) - self.r_moon > _ORBIT_SAFE

    def landing_need(self, nav, mass):
        # Propellant (kg) a landing from here still needs: the speed to null, gravity over
        # the time the profile takes to come down, 10 % margin and 5 kg for the last metres.
        h = nav.h if nav.h > 0.0 else 0.0
        vz = -nav.vz if nav.vz < 0.0 else nav.vz
        g = 1.62
        t_go = 2.0 * (h - H_LOW) / (vz + _V_LOW) if h > H_LOW else 0.0
        t_go += H_LOW / _V_LOW + 10.0
        dv = (nav.vx if nav.vx > 0.0 else -nav.vx) + vz + g * t_go
        return 1.1 * mass * (1.0 - math.exp(-dv / self.ve)) + 5.0
