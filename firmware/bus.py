# The data bus between the flight computer and the vehicle: what the sensors last reported
# and what the flight software last commanded, as plain fields. It is the flight software's
# only window on the vehicle: the flight-software modules (fsw.py, nav.py, guidance.py,
# fdir.py, phases.py, engine.py) import this module and never the truth model (vehicle.py,
# terrain.py, sensors.py, world.py); a test checks their imports.
#
# The truth side (world.py) fills the sensor fields every cycle and reads the commands.


class Bus:
    def __init__(self):
        # IMU: specific force along the thrust axis and across it, pitch rate (gyro).
        self.imu_valid = True
        self.imu_fz = 0.0
        self.imu_fx = 0.0
        self.imu_rate = 0.0
        self.imu_saturated = False  # a channel read at its full-scale value
        self.imu_resets = 0         # power-on resets of the IMU counted by its interface
        # Star tracker: pitch of the thrust axis from the local vertical.
        self.st_valid = True
        self.st_pitch = 0.0
        # Laser rangefinder: slant range, return strength (1 at the design range, normal
        # incidence), the arm-plug discrete (False while the safety plug inhibits the laser).
        self.lrf_valid = False
        self.lrf_range = 0.0
        self.lrf_return = 0.0
        self.lrf_armed = True
        self.lrf_bit = True         # built-in test result, set by world.bit()
        # Navigation Doppler Lidar (a payload, IM-1): range along the axis, velocity, and
        # the payload's own data-valid flag.
        self.ndl_present = False
        self.ndl_flag = False
        self.ndl_range = 0.0
        self.ndl_vz = 0.0
        self.ndl_vx = 0.0
        # Optical terrain-relative navigation: altitude and velocity against a map, 1 Hz.
        self.opt_valid = False
        self.opt_new = False
        self.opt_alt = 0.0
        self.opt_vz = 0.0
        self.opt_vx = 0.0
        # Propulsion: main-engine chamber pressure, tank and pressurant transducers.
        self.pc = 0.0
        self.fuel_p = 0.0
        self.ox_p = 0.0
        self.he_p = 0.0
        self.fuel_t = 0.0
        self.ox_t = 0.0
        # Power and thermal.
        self.batt_v = 0.0
        self.batt_i = 0.0
        self.solar_i = 0.0
        self.avionics_t = 0.0
        # Landing-leg contact switches.
        self.contact = False
        # Commands to the vehicle.
        self.main_cmd = 0.0         # main-engine throttle, 0 (valve closed) or its range
        self.main_isolated = False  # main-engine isolation valve closed (cannot reopen)
        self.tdt_duty = 0.0         # thruster pulse duty, 0..1, all thrusters together
        self.tdt_fire = False       # the thrusters fire this cycle (the duty, modulated)
        self.rate_cmd = 0.0         # commanded pitch rate, rad/s
        self.latch_close = False
        self.shed = False
        self.solar_off_sun = False  # the burn attitude turns the arrays off the sun
