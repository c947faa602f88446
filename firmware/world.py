# The simulated world the flight software flies in: the real vehicle (its parameters drawn
# around the data sheet for this seed), the terrain, the sensors that write the bus
# (firmware/bus.py) and the physics of touchdown. Nothing here is visible to the flight
# software except through the bus.
#
# Parameters: the data sheet (firmware/craft.py), then config.json "craft" (a different
# vehicle: both sides), then this seed's dispersions, then "truth" (the vehicle is not as
# its data sheet says: the truth alone). Only the changes take memory (Params), and the data
# sheet itself (firmware/craft.py) is read at boot and then let go (flight.py).
from sensors import Imu, Lrf, Ndl, Optical, StarTracker, Transducers
from terrain import Terrain
from vehicle import Vehicle


class Params:
    # A parameter set as the data sheet and the changes made to it.
    def __init__(self, base, changes):
        self.base = base
        self.changes = changes

    def __getitem__(self, name):
        v = self.changes.get(name)
        return self.base[name] if v is None else v


def datasheet(cfg):
    # The parameter set both sides start from: craft.py with config.json "craft" applied.
    import craft

    base = craft.NOMINAL
    changes = {}
    for name, value in (cfg.get("craft") or {}).items():
        if name in base:
            changes[name] = float(value)
    return Params(base, changes)


class World:
    def __init__(self, cfg, rng, bus):
        self.bus = bus
        self.rng = rng
        import craft

        p = datasheet(cfg)
        g = rng.gauss
        if cfg.get("dispersions", True):
            for name, sigma, relative in craft.DISPERSION:
                v = p[name]
                p.changes[name] = v * (1.0 + sigma * g()) if relative else v + sigma * g()
        for name, value in (cfg.get("truth") or {}).items():
            if name in p.base:
                p.changes[name] = float(value)
        # Touchdown limits (the test bench's, flight.py): vertical and horizontal, design
        # and test, and the slope.
        self.limits = (p["touchdown_vz_design"], p["touchdown_vx_design"],
                       p["touchdown_vz_max"], p["touchdown_vx_max"], p["touchdown_slope_max"])
        t = cfg.get("terrain") or {}
        self.terrain = Terrain(t.get("points"), float(t.get("roughness", 1.0)), rng,
                               float(t.get("spread", 0.0)))
        self.vehicle = Vehicle(p, self.terrain)
        self.lrf = Lrf(rng, self.terrain, p)
        self.imu = Imu(rng, p)
        self.star_tracker = StarTracker(rng, p)
        self.ndl = Ndl(rng, self.terrain, p, bool((cfg.get("payloads") or {}).get("ndl")))
        self.optical = Optical(rng, self.terrain, p)
        self.transducers = Transducers(rng, p)
        self.touchdown = None       # (vz, vx, slope, propellant) at contact
        self.transducers.measure(self.vehicle, bus)

    def bit(self):
        self.bus.lrf_bit = self.lrf.bit()
        self.bus.lrf_armed = not self.lrf.plugged

    def step(self, dt, slot, tick):
        # One cycle of the truth, then the sensors due in it (the flight software reads
        # them in the same cycle: the 10 Hz ones in the slot it uses them in).
        v = self.vehicle
        bus = self.bus
        v.step(dt, bus)
        self.imu.measure(v, bus, dt)
        self.transducers.chamber(v, bus)
        if v.state == 0 and not v.coasting and v.altitude() <= 0.0:
            self._contact()
        if slot == 0:
            self.lrf.measure(v, bus)
            self.ndl.measure(v, bus)
            self.star_tracker.measure(v, bus)
            if tick % 50 == 0:
                self.optical.measure(v, bus)
        elif slot == 1:
            v.slow(5.0 * dt)
            self.transducers.measure(v, bus)

    def _contact(self):
        v = self.vehicle
        self.touchdown = (v.vz, v.vx, abs(self.terrain.slope(v.x)), v.prop)
        v.land()
        self.bus.contact = True
