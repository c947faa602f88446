# Navigation: the flight software's estimate of where the vehicle is. The IMU's specific
# force, rotated by the attitude, plus the gravity model, propagates altitude above the
# terrain below, vertical and horizontal velocity every cycle; the laser rangefinder corrects
# altitude and vertical velocity through a two-state Kalman filter, behind a reasonableness
# gate. Navigation has no terrain map: terrain under the track is process noise that grows
# with the distance flown, so the filter's uncertainty says how long it has not seen the
# ground.
#
# The gate refuses a measurement more than _GATE sigma from the prediction. Three lessons:
# (a) ispace M1 (2023): passing a crater rim the measured altitude jumped; the rejection
#     logic judged the healthy LRF faulty and ignored it for good; the estimate reached zero
#     5 km up. Here a rejection is never final: when _CONSISTENT_N rejected measurements in
#     a row agree with each other (a true step of the terrain does; noise does not), the
#     LRF is re-admitted and the altitude re-anchored to it (EVENT LRF_READMITTED).
#     {"nav": {"readmit": false}} restores M1's logic, to reproduce the loss.
# (b) ispace M2 (2025): the first valid measurement came below ~900 m instead of 3 km.
#     `first_valid` and `since_valid` let fault protection see that the LRF is late.
# (c) IM-1 (2024): the inhibited LRF is caught by its built-in test (firmware/sensors.py,
#     firmware/fdir.py) before powered descent.
# A stuck LRF (the same range again and again, which noise makes impossible) is treated as
# invalid, so that a frozen reading is never re-admitted as "consistent".
#
# Accelerometer bias is calibrated while coasting before PDI (in free fall the
# accelerometers should read zero). After an IMU fault, fault protection switches the
# propagation to the engine model: the thrust the chamber pressure and the thruster duty
# say, over the gauged mass.
#
# Other aids, where the vehicle carries them: a Doppler lidar (IM-1's NDL payload) gives
# range and velocity, used only with its data-valid flag set ({"nav": {"ndl": "patched"}};
# "patched_without_flag" is IM-1's patch, which never saw the flag set and used nothing);
# optical terrain-relative navigation (a downward camera against a map, 1 Hz, once the
# thrust axis is within ~50 deg of vertical): its velocity always aids, its altitude only
# when no altimeter is usable, as IM-1 landed on it ({"nav": {"optical": "off"}} removes it).
#
# Attitude (Attitude below) is the gyro's pitch rate integrated, corrected by the star
# tracker, which also calibrates the gyro's bias; without it the gyro drifts.
# Only the bus (firmware/bus.py) is read: never the vehicle.
import math
from array import array
from math import cos, sin

import packets as P
from micropython import const

_GATE = const(5.0)          # sigma
_CONSISTENT_N = const(8)    # rejected measurements that must agree to re-admit (0.8 s)
_M1_REJECT_LIMIT = const(5)  # with readmit off: rejections in a row that exclude the LRF
_STUCK_N = const(3)         # identical ranges in a row that mean "stuck"
_TERRAIN_VAR = const(0.1)   # m^2 of terrain-height variance per metre flown (the map's error)
_ACCEL_VAR_IMU = const(1e-4)  # (m/s^2)^2: residual accelerometer error after calibration
_ACCEL_VAR_MODEL = const(2e-3)  # (m/s^2)^2: engine model (1 % thrust dispersion)
_AIDED_TICKS = const(10)    # 10 Hz samples an acceptance keeps the mode RANGE_AIDED
_ROUGHNESS = const(2.0)     # m: the surface roughness the range noise is budgeted for
_VX_VAR = const(1e-5)       # (m/s^2)^2 * s: horizontal velocity random walk


class Attitude:
    def __init__(self):
        self.pitch = 1.5708
        self.bias = 0.0         # gyro bias estimate, rad/s
        self.st_age = 0         # 10 Hz samples since the last star-tracker fix

    def propagate(self, bus, dt):
        # Without the gyro (it is in the IMU), the rate commanded stands in for it.
        if bus.imu_valid:
            self.pitch += (bus.imu_rate - self.bias) * dt
        else:
            self.pitch += bus.rate_cmd * dt

    def correct(self, bus, calibrating):
        # 10 Hz: the star tracker pulls the integrated pitch back and learns the bias.
        if not bus.st_valid:
            if self.st_age < 30000:
                self.st_age += 1
            return
        self.st_age = 0
        e = bus.st_pitch - self.pitch
        self.pitch += 0.3 * e
        self.bias -= (0.05 if calibrating else 0.01) * e


class Nav:
    def __init__(self, cfg, p):
        self.readmit = cfg.get("readmit", True)
        self.ndl_mode = cfg.get("ndl", "")
        self.optical = cfg.get("optical", "fallback") != "off"
        self.gm = p["moon_gm"]
        self.r_moon = p["moon_radius"]
        self.lrf_sigma0 = p["lrf_sigma0"]
        self.lrf_sigma_rel = p["lrf_sigma_rel"]
        self.opt_sigma = p["optical_altitude_sigma"]
        self.opt_sigma_v = p["optical_velocity_sigma"]
        self.ndl_sigma = p["ndl_range_sigma"]
        self.ndl_sigma_v = p["ndl_velocity_sigma"]
        self.p_xx = 0.0         # variance of the horizontal velocity
        self.ndl_used = 0       # NDL measurements taken
        self.aid = 0            # 0 none, 1 LRF, 2 NDL, 3 optical: what aided last
        self.no_altimeter = False   # set by fault protection: optical fallback allowed
        self.h = 0.0            # altitude above the terrain below, m
        self.vz = 0.0
        self.vx = 0.0
        self.pitch = 0.0
        self.p_hh = 0.0         # covariance of (altitude, vertical velocity)
        self.p_hv = 0.0
        self.p_vv = 0.0
        self.bias_z = 0.0       # calibrated accelerometer bias
        self.bias_x = 0.0
        self.calibrating = False
        self._cal_n = 0
        self._cal_z = 0.0
        self._cal_x = 0.0
        self.source = P.ACCEL_SOURCE_IMU
        self.mode = P.NAV_MODE_INERTIAL
        self.innovation = 0.0
        self.rejects = 0        # refused by the gate since boot
        self.reject_run = 0     # in a row
        self.reject_rate = 0.0  # smoothed share of valid measurements refused
        self.excluded = False   # M1 logic only: the LRF ignored for good
        self.distrusted = False  # fault protection's LRF_FAULT: refused until consistent again
        self._quiet = 0         # samples before another LRF_REJECTED event may be sent
        self.first_valid = False
        self.valid_count = 0    # valid measurements received (counted up to 1000)
        self.since_valid = 0    # 10 Hz samples since the last valid measurement
        self.since_accept = 1000
        self.stuck = False
        self._last_range = -1.0
        self._same = 0
        self._ring = array("f", [0.0] * _CONSISTENT_N)
        self._ring_n = 0
        self.thrust_scale = 1.0  # engine model's thrust, calibrated against the IMU in flight
        self.imu_residual = 0.0  # smoothed IMU minus engine model, m/s^2
        self.imu_residual_sq = 0.0
        self.imu_invalid = 0
        self._imu_last = 0.0
        self._imu_same = 0

    def start(self, h, vz, vx, pitch, sigma_h, sigma_v):
        # Initial state from the ground's orbit determination (with its errors).
        self.h = h
        self.vz = vz
        self.vx = vx
        self.pitch = pitch
        self.p_hh = sigma_h * sigma_h
        self.p_hv = 0.0
        self.p_vv = sigma_v * sigma_v
        self.p_xx = sigma_v * sigma_v

    def calibrate(self, bus):
        if bus.imu_valid:
            self._cal_n += 1
            self._cal_z += bus.imu_fz
            self._cal_x += bus.imu_fx
            self.bias_z = self._cal_z / self._cal_n
            self.bias_x = self._cal_x / self._cal_n

    def propagate(self, dt, bus, model_accel, pitch):
        # One cycle of dead reckoning. model_accel: the engine model's specific force.
        self.pitch = pitch
        valid = bus.imu_valid and not bus.imu_saturated
        if valid:
            imu_fz = bus.imu_fz
            fz = imu_fz - self.bias_z
            fx = bus.imu_fx - self.bias_x
            # Watch the IMU against the engine model (fault protection reads these), and
            # while they agree, calibrate the model's thrust slowly (20 s) against the IMU so
            # that it is a good fallback; a fault shows as a jump the calibration ignores.
            model = model_accel * self.thrust_scale
            r = fz - model
            self.imu_residual += 0.05 * (r - self.imu_residual)
            self.imu_residual_sq += 0.05 * (r * r - self.imu_residual_sq)
            if model_accel > 0.5 and -0.1 < r < 0.1:
                self.thrust_scale += 0.001 * r / model_accel
            self._imu_same = self._imu_same + 1 if imu_fz == self._imu_last else 0
            self._imu_last = imu_fz
            self.imu_invalid = 0
        else:
            self.imu_invalid += 1
        if self.source == P.ACCEL_SOURCE_ENGINE_MODEL or not valid:
            fz = model_accel * self.thrust_scale
            fx = 0.0
            q = _ACCEL_VAR_MODEL
            qx = _ACCEL_VAR_MODEL + _VX_VAR
        else:
            q = _ACCEL_VAR_IMU
            qx = _ACCEL_VAR_IMU + _VX_VAR
        c = cos(pitch)
        s = sin(pitch)
        inv_r = 1.0 / (self.r_moon + self.h)
        vx = self.vx
        vz = self.vz
        az = fz * c + fx * s - self.gm * inv_r * inv_r + vx * vx * inv_r
        ax = fx * c - fz * s - vz * vx * inv_r
        vz = vz + az * dt
        self.vz = vz
        self.vx = vx + ax * dt
        self.h += vz * dt
        # Covariance: constant-velocity model, accelerometer noise, unknown terrain.
        p_hv = self.p_hv
        p_vv = self.p_vv
        self.p_hh += dt * (2.0 * p_hv + dt * p_vv) + _TERRAIN_VAR * abs(vx) * dt
        self.p_hv = p_hv + dt * p_vv
        self.p_vv = p_vv + q * dt
        self.p_xx += qx * dt

    def imu_stuck(self):
        return self._imu_same >= 10

    def sigma(self):
        return math.sqrt(self.p_hh) if self.p_hh > 0.0 else 0.0

    def update(self, bus, events):
        # One rangefinder sample (10 Hz), then the other aids. events(id, severity, arg1,
        # arg2, arg3) reports rejections and re-admissions.
        self._aids(bus)
        if self.since_accept < 1000:
            self.since_accept += 1
        if self._quiet:
            self._quiet -= 1
        valid = bus.lrf_valid
        rng = bus.lrf_range
        if valid:
            if rng == self._last_range:
                self._same += 1
            else:
                self._same = 0
            self._last_range = rng
            self.stuck = self._same >= _STUCK_N - 1
            valid = not self.stuck
        if not valid:
            if self.since_valid < 30000:
                self.since_valid += 1
            self._set_mode()
            return
        self.first_valid = True
        self.since_valid = 0
        if self.valid_count < 1000:
            self.valid_count += 1
        c = math.cos(self.pitch)
        z = rng * c
        # The data sheet's noise, spread by the incidence over the terrain's roughness.
        sr = self.lrf_sigma0 + self.lrf_sigma_rel * rng + _ROUGHNESS * abs(math.tan(self.pitch))
        r = sr * sr
        nu = z - self.h
        self.innovation = nu
        s = self.p_hh + r
        if self.excluded or self.distrusted or nu * nu > _GATE * _GATE * s:
            self._reject(nu, z, r, sr, events)
        else:
            self._accept(nu, s)
            self.reject_rate *= 0.95
        self._set_mode()

    def _aids(self, bus):
        self.aid = 1 if self.since_accept == 0 else 0
        if self.ndl_mode == "patched" and bus.ndl_present and bus.ndl_flag:
            # IM-1's patch as it should have been: NDL range and velocity, when valid.
            z = bus.ndl_range * math.cos(self.pitch)
            r = self.ndl_sigma * self.ndl_sigma
            nu = z - self.h
            s = self.p_hh + r
            if nu * nu < _GATE * _GATE * s:
                self._fuse(nu, s)
            self._velocity(bus.ndl_vz, bus.ndl_vx, self.ndl_sigma_v)
            self.aid = 2
            if self.ndl_used < 30000:
                self.ndl_used += 1
        elif self.optical and bus.opt_new:
            bus.opt_new = False
            if bus.opt_valid:
                if self.no_altimeter:
                    r = self.opt_sigma * self.opt_sigma
                    nu = bus.opt_alt - self.h
                    s = self.p_hh + r
                    self._fuse(nu, s)
                self._velocity(bus.opt_vz, bus.opt_vx, self.opt_sigma_v)
                self.aid = 3

    def _velocity(self, vz, vx, sigma):
        # A velocity measurement: vertical into the (h, vz) filter, horizontal alone.
        r = sigma * sigma
        s = self.p_vv + r
        nu = vz - self.vz
        k_h = self.p_hv / s
        k_v = self.p_vv / s
        self.h += k_h * nu
        self.vz += k_v * nu
        p_hv = self.p_hv
        p_vv = self.p_vv
        self.p_hh -= k_h * p_hv
        self.p_hv = p_hv - k_h * p_vv
        self.p_vv = p_vv - k_v * p_vv
        k = self.p_xx / (self.p_xx + r)
        self.vx += k * (vx - self.vx)
        self.p_xx -= k * self.p_xx

    def _accept(self, nu, s):
        self._fuse(nu, s)
        self.reject_run = 0
        self._ring_n = 0
        self.since_accept = 0

    def _fuse(self, nu, s):
        k_h = self.p_hh / s
        k_v = self.p_hv / s
        self.h += k_h * nu
        self.vz += k_v * nu
        p_hh = self.p_hh
        p_hv = self.p_hv
        self.p_hh = p_hh - k_h * p_hh
        self.p_hv = p_hv - k_h * p_hv
        self.p_vv -= k_v * p_hv

    def _reject(self, nu, z, r, sr, events):
        self.rejects += 1
        self.reject_rate += 0.05 * (1.0 - self.reject_rate)
        if self.reject_run == 0 and not self._quiet and not self.distrusted:
            # One event per episode (at most one per 5 s), not one per refused sample.
            events(P.EVENT_ID_LRF_REJECTED, P.SEVERITY_WARNING, int(nu), int(self.sigma()), 0)
            self._quiet = 50
        self.reject_run += 1
        if not self.readmit:
            if self.reject_run >= _M1_REJECT_LIMIT:
                self.excluded = True
            return
        ring = self._ring
        n = self._ring_n
        if n < _CONSISTENT_N:
            ring[n] = nu
            self._ring_n = n + 1
        else:
            for i in range(_CONSISTENT_N - 1):
                ring[i] = ring[i + 1]
            ring[_CONSISTENT_N - 1] = nu
        if self._ring_n < _CONSISTENT_N:
            return
        lo = hi = ring[0]
        total = 0.0
        for i in range(_CONSISTENT_N):
            v = ring[i]
            total += v
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        mean = total / _CONSISTENT_N
        if hi - lo <= 6.0 * sr + 0.05 * abs(mean):
            # The measurements agree with each other, not with us: the ground really is
            # where the LRF says (a terrain step). Believe it and re-anchor.
            events(P.EVENT_ID_LRF_READMITTED, P.SEVERITY_WARNING, int(mean), self.reject_run, 0)
            self.h = z
            self.p_hh = r
            self.p_hv = 0.0
            self.reject_run = 0
            self._ring_n = 0
            self.since_accept = 0
            self.reject_rate = 0.0
            self.distrusted = False
            self._quiet = 0

    def lrf_state(self, bus):
        # What the rangefinder's last shot came to, for telemetry.
        if self.excluded or self.distrusted:
            return P.LRF_STATE_EXCLUDED
        if not bus.lrf_valid:
            return P.LRF_STATE_NO_RETURN
        if self.stuck:
            return P.LRF_STATE_STUCK
        return P.LRF_STATE_ACCEPTED if self.since_accept == 0 else P.LRF_STATE_REJECTED

    def _set_mode(self):
        if self.excluded or self.distrusted or (self.reject_run and self.since_valid == 0):
            self.mode = P.NAV_MODE_RANGE_REJECTED
        elif self.since_accept < _AIDED_TICKS:
            self.mode = P.NAV_MODE_RANGE_AIDED
        else:
            self.mode = P.NAV_MODE_INERTIAL
