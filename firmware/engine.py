# The flight software's propulsion: how a thrust asked by guidance becomes valve commands,
# and what the engines are believed to deliver, from the command and the main engine's
# chamber pressure (never from the vehicle itself).
#
# Allocation (10 Hz): the main engine throttles between its floor and full thrust; below the
# floor it is off and the thrusters pulse (pulse-width duty, 0-1, all together); above full
# thrust the thrusters add their part. A hysteresis keeps the main engine from chattering
# where either can serve. Responses of fault protection change the allocation:
#   RECALIBRATE_ENGINE  thrust is not what the command gives (a loss, or more than commanded
#                       as Chandrayaan-2 had): the measured ratio scales the main engine;
#   MAIN_ON_OFF         the throttle is stuck: fly the main engine on/off at the thrust it
#                       is stuck at, the thrusters filling in;
#   ISOLATE_MAIN        the main engine does not shut down (Luna-25): close its isolation
#                       valve and land on the thrusters.
from micropython import const

_G0 = const(9.80665)


class Engine:
    def __init__(self, p):
        self.f_main = p["main_engine_thrust"]
        self.isp_main = p["main_engine_isp"]
        self.blowdown_isp = p["main_engine_blowdown_isp"]
        self.floor = p["main_engine_throttle_min"]
        self.pc_nom = p["main_engine_chamber_pressure"]
        self.tau = p["main_engine_response"]
        self.n_tdt = int(p["thrusters_count"])
        self.f_tdt_each = p["thrusters_thrust"]
        self.f_tdt = self.n_tdt * self.f_tdt_each
        self.isp_tdt = p["thrusters_isp"]
        self.p_reg = p["tanks_p_reg"]
        self.main_on = False
        self.main_scale = 1.0       # measured thrust over commanded (after RECALIBRATE)
        self.tdt_scale = 1.0        # thrusters' delivered share (after a thruster fault)
        self.stuck_at = 0.0         # throttle the main engine is stuck at (MAIN_ON_OFF)
        self.isolated = False
        self.force = 0.0            # N asked by guidance
        self.cmd_lag = 0.0          # the command through the engine's response time
        self.main_est = 0.0         # N, from chamber pressure
        self.tdt_est = 0.0
        self.feed = 1.0
        self.flow = 0.0             # kg/s, estimated propellant flow
        self._pulse = 0.0           # sigma-delta accumulator of the thruster pulses
        # Fixed products the 50 Hz estimate would otherwise form each cycle (the same
        # numbers, computed once or when their inputs change).
        self._ve_tdt = self.isp_tdt * _G0
        self._feed_at = -1.0
        self._ve_main = 0.0
        self._dt_at = -1.0
        self._k = 0.0

    def max_force(self, all_engines):
        # What guidance may plan with: every engine in braking; after it the main engine
        # alone (the thrusters pulse below its floor and steer), unless it is isolated.
        tdt = self.f_tdt * self.tdt_scale
        if self.isolated:
            return tdt * self.feed
        f = self.f_main * (self.stuck_at if self.stuck_at > 0.0 else self.main_scale)
        degraded = (self.main_scale < 0.97 or self.stuck_at > 0.0 or self.tdt_scale < 1.0
                    or self.feed < 0.95)
        return (f + tdt if all_engines or degraded else f) * self.feed

    def allocate(self, force, bus, cap):
        # Guidance asks `force` newtons along the thrust axis (at most `cap`); set the valves.
        if force > cap:
            force = cap
        self.force = force
        feed = self.feed
        fm = self.f_main * self.main_scale * feed
        ft = self.f_tdt * self.tdt_scale * feed
        if self.isolated or force <= 0.0:
            self.main_on = False
        elif self.stuck_at > 0.0:
            fm = self.f_main * self.stuck_at * feed
            self.main_on = force >= 0.9 * fm if not self.main_on else force > 0.7 * fm
        elif self.main_on:
            self.main_on = force >= 0.9 * self.floor * fm
        else:
            self.main_on = force > 0.95 * ft and force >= self.floor * fm
        if self.main_on:
            if self.stuck_at > 0.0:
                u = self.stuck_at
                rest = force - fm
            else:
                u = force / fm if force < fm else 1.0
                if u < self.floor:
                    u = self.floor
                rest = force - u * fm
            bus.main_cmd = u
        else:
            bus.main_cmd = 0.0
            rest = force
        duty = rest / ft if ft > 0.0 else 0.0
        bus.tdt_duty = 0.0 if duty < 0.0 else (1.0 if duty > 1.0 else duty)

    def estimate(self, bus, dt):
        # Every cycle: thrust and flow believed delivered in the cycle just flown (the main
        # engine's from its chamber pressure, the thrusters' from whether they fired and the
        # feed pressure); then the thrusters' pulses for the next cycle, modulated from the
        # duty (sigma-delta: a duty under one cycle in five comes out as separate pulses).
        fired = bus.tdt_fire
        pulse = self._pulse + bus.tdt_duty
        if pulse >= 0.5:
            pulse -= 1.0
            bus.tdt_fire = True
        else:
            bus.tdt_fire = False
        self._pulse = pulse
        p = bus.fuel_p if bus.fuel_p < bus.ox_p else bus.ox_p
        feed = min(max(p / self.p_reg, 0.0), 1.2)
        self.feed = feed
        u = bus.main_cmd * self.main_scale * feed
        if dt != self._dt_at:
            self._dt_at = dt
            self._k = min(dt / self.tau, 1.0)
        self.cmd_lag += (u - self.cmd_lag) * self._k
        pc = bus.pc
        main_est = self.f_main * pc / self.pc_nom if pc > 0.05 else 0.0
        self.main_est = main_est
        tdt_est = self.f_tdt * self.tdt_scale * feed if fired else 0.0
        self.tdt_est = tdt_est
        if feed != self._feed_at:
            self._feed_at = feed
            isp = self.isp_main * (1.0 - self.blowdown_isp * (1.0 - min(feed, 1.0)))
            self._ve_main = isp * _G0
        self.flow = main_est / self._ve_main + tdt_est / self._ve_tdt

    def thrust(self):
        return self.main_est + self.tdt_est

    def pc_fraction(self, bus):
        # Chamber pressure as a fraction of full thrust at regulated feed.
        return bus.pc / self.pc_nom
