# The terrain under the ground track: height of the surface above the landing datum as a
# function of the distance along the track from the powered-descent initiation point (PDI),
# piecewise linear between up to MAX_POINTS points. Only the truth side of the simulation
# reads it (the rangefinder's footprint and touchdown); navigation does not have this map,
# as ispace's first lander had no terrain model of its new descent path (ispace, May 2023).
#
# The default track is a mare with gentle undulations that crosses the rim of an old crater
# during the braking burn, far above the rangefinder's range. A scenario moves a rim under
# the approach with config {"terrain": {"points": [[x_m, height_m], ...]}}; a rim is a
# sudden rise of the surface: two points a few hundred metres apart, hundreds of metres
# apart in height. {"terrain": {"roughness": m}} sets how rough the surface is.
from array import array

from micropython import const

MAX_POINTS = const(32)

DEFAULT = (
    (-200000.0, 0.0),
    (60000.0, 250.0),
    (120000.0, -300.0),       # crater floor
    (121500.0, 300.0),        # its rim: a 600 m rise over 1.5 km, crossed at about 10 km up
    (140000.0, 100.0),
    (250000.0, -150.0),
    (330000.0, 80.0),
    (380000.0, 0.0),
    (420000.0, -40.0),
    (440000.0, -60.0),
    (480000.0, -60.0),
    (520000.0, -20.0),
    (2000000.0, 0.0),
)


class Terrain:
    def __init__(self, points=None, roughness=1.0, rng=None, spread=0.0):
        # roughness: one-sigma height of the surface within a rangefinder's footprint, m;
        # spread: one-sigma error of every point of the track (a Monte Carlo dispersion).
        self.roughness = roughness
        pts = points if points else DEFAULT
        n = min(len(pts), MAX_POINTS)
        if n < 2:
            pts = DEFAULT
            n = len(pts)
        self.xs = array("f", [0.0] * n)
        self.hs = array("f", [0.0] * n)
        for i in range(n):
            self.xs[i] = float(pts[i][0])
            self.hs[i] = float(pts[i][1]) + (spread * rng.gauss() if spread else 0.0)
        self.n = n
        self.i = 0      # segment last used: lookups move along the track, so start there

    def height(self, x):
        xs = self.xs
        n = self.n
        if x <= xs[0]:
            return self.hs[0]
        if x >= xs[n - 1]:
            return self.hs[n - 1]
        i = self.i
        while i > 0 and x < xs[i]:
            i -= 1
        while i < n - 2 and x >= xs[i + 1]:
            i += 1
        self.i = i
        x0 = xs[i]
        h0 = self.hs[i]
        return h0 + (self.hs[i + 1] - h0) * (x - x0) / (xs[i + 1] - x0)

    def slope(self, x):
        # Surface slope under x, as rise over run (touchdown checks the angle).
        h = self.height(x)
        return (self.height(x + 1.0) - h)
