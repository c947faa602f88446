# The testbed around the flight software: the simulated world (world.py: vehicle, terrain,
# sensors) and the flight software (fsw.py), joined only by the bus (bus.py), stepped one
# control cycle at a time. This module is where the simulation may read both sides: it
# hands the flight software the ground's state vector at the start of the descent orbit
# (truth plus orbit-determination errors), reports touchdown as the test bench sees it, and
# writes the TRUTH packet. The flight software itself never imports it.
#
# Commands return 0 when done, or the TC_VERIFY reason code why not: arm(),
# start_descent(), abort(), safe(), inject_fault(target, kind, magnitude), clear_fault(target).
import sys

import packets as P
from bus import Bus
from fsw import Fsw
from noise import Rng
from world import World, datasheet


class Flight:
    def __init__(self, points, events, seed=1, cfg=None):
        cfg = cfg or {}
        self.truth_tm = points[P.TRUTH]
        self.events = events
        self.rng = Rng(seed)
        self.bus = Bus()
        self.world = World(cfg, self.rng, self.bus)
        w = self.world
        # What faults.py reaches: the units of the world (and the App's downlink).
        self.vehicle = w.vehicle
        self.lrf = w.lrf
        self.imu = w.imu
        self.star_tracker = w.star_tracker
        self.transducers = w.transducers
        self.terrain = w.terrain
        self.downlink = None
        self.nav_cfg = cfg.get("nav") or {}
        self.fsw = Fsw(points, events, self.bus, datasheet(cfg), cfg)
        self.fsw.on_phase = self._on_phase
        # The data sheet has been read: let its module go (it is most of a kilobyte of
        # numbers the heap needs more than it).
        sys.modules.pop("craft", None)
        self._touched = False
        self._start_nav()
        # Where the noise stands at boot. The descent orbit starts from here again (see
        # _on_phase): the sensors draw noise every cycle from power-on, and the flight must
        # not depend on how long the vehicle waited for the ground's START_DESCENT.
        r = self.rng
        self._rng_boot = (r.z, r.w, r.x)
        self.fsw.points()
        self._points_truth()

    # What the App and the commanding see.

    @property
    def phase(self):
        return self.fsw.phase

    @property
    def phase_ticks(self):
        return self.fsw.phase_ticks

    @property
    def tick(self):
        return self.fsw.tick

    @property
    def shed_telemetry(self):
        return self.fsw.shed_telemetry

    @shed_telemetry.setter
    def shed_telemetry(self, callback):
        self.fsw.shed_telemetry = callback

    def arm(self):
        return self.fsw.arm()

    def start_descent(self):
        return self.fsw.start_descent()

    def abort(self):
        return self.fsw.abort()

    def safe(self):
        return self.fsw.safe()

    # Fault injection (faults.py) is test-campaign machinery, not flight software: its module
    # and tables come into the heap with the first INJECT_FAULT or CLEAR_FAULT (a scheduled
    # one included), so a flight without faults never carries them.

    def inject_fault(self, target, kind, magnitude):
        import faults

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
        import faults

        r = faults.clear(self, target)
        if r == 0:
            self.events(P.EVENT_ID_FAULT_CLEARED, P.SEVERITY_INFO, target, 0, 0)
        return r

    def note_overrun(self, us):
        # The App measured a control cycle longer than its budget.
        self.fsw.overrun_score += 1.0
        self.fsw.last_overrun_us = us

    # The simulation's side of phase changes.

    def _on_phase(self, phase):
        v = self.vehicle
        if phase == P.PHASE_ARMED or phase == P.PHASE_DESCENT_ORBIT:
            self.world.bit()
        if phase == P.PHASE_DESCENT_ORBIT:
            # Noise as at boot: the orbit-determination errors and every draw after them
            # are the seed's, whatever the time the command came (a HIL ground sends it at
            # its own time: started 7.5 s after boot, the error differed by 214 m). A flight
            # that starts at boot draws nothing before this, so it flies as it always did.
            r = self.rng
            r.z, r.w, r.x = self._rng_boot
            v.place(self.fsw.pdi_lead_s)
            v.coasting = False
            self._start_nav()

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
        self.fsw.att.pitch = v.pitch
        self.fsw.start_nav(v.altitude() + err, v.vz + sigma_v * g(), v.vx + 0.05 * g(),
                           max(sigma_h, abs(err)), sigma_v)

    # The cycle.

    def step(self, dt):
        fsw = self.fsw
        slot = (fsw.tick + 1) % 5
        self.world.step(dt, slot, fsw.tick + 1)
        if self.world.touchdown is not None and not self._touched:
            self._touchdown()
        fsw.step(dt)
        if slot == 4 and fsw.tick % 25 == 24:
            self._points_truth()

    def _touchdown(self):
        # The test bench's view of the contact: the real speeds against the limits of the
        # data sheet. Beyond the test limits the vehicle is lost (CRASHED); within them the
        # flight software notices the legs' switches and lands.
        self._touched = True
        td = self.world.touchdown
        if td is None:
            return
        vz, vx, slope, prop = td
        vz_design, vx_design, vz_max, vx_max, slope_max = self.world.limits
        ok = -vz <= vz_max and abs(vx) <= vx_max and slope <= slope_max
        if -vz <= vz_design and abs(vx) <= vx_design and ok:
            severity = P.SEVERITY_INFO
        else:
            severity = P.SEVERITY_WARNING if ok else P.SEVERITY_CRITICAL
        self.events(P.EVENT_ID_TOUCHDOWN, severity, int(vz * 1000), int(vx * 1000),
                    int(prop * 1000))
        if not ok:
            self.fsw.phases.fire(P.TRIGGER_CRASH)

    def _points_truth(self):
        v = self.vehicle
        tr = self.truth_tm
        tr.altitude = v.altitude()
        tr.terrain = self.terrain.height(v.x)
        tr.downrange = v.x
        tr.vel_vertical = v.vz
        tr.vel_horizontal = v.vx
        tr.mass = v.dry + v.prop
        tr.propellant = v.prop
