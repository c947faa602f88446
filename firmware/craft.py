# The lander's parameters, generated from schemas/craft.toml by `make generate`
# (python -m schemas.codegen). Do not edit: edit craft.toml, which gives each one's
# unit and source.

# name: nominal value (the data sheet the flight software knows)
NOMINAL = {
    'moon_gm': 4902800070000.0,  # m^3/s^2
    'moon_radius': 1737400.0,  # m
    'orbit_apolune': 100000.0,  # m
    'orbit_perilune': 15000.0,  # m
    'orbit_pdi_lead': 60.0,  # s
    'mass_dry': 340.0,  # kg
    'mass_propellant': 420.0,  # kg
    'main_engine_thrust': 1100.0,  # N
    'main_engine_isp': 320.0,  # s
    'main_engine_throttle_min': 0.5,  # 1
    'main_engine_chamber_pressure': 10.0,  # bar
    'main_engine_blowdown_isp': 0.06,  # 1
    'main_engine_response': 0.15,  # s
    'thrusters_count': 6,  # 1
    'thrusters_thrust': 150.0,  # N
    'thrusters_isp': 285.0,  # s
    'thrusters_pulse_period': 5,  # cycles
    'attitude_slew_max': 0.1745,  # rad/s
    'attitude_gyro_bias': 5e-05,  # rad/s
    'attitude_gyro_noise': 0.0002,  # rad/s
    'attitude_star_tracker_sigma': 0.0001,  # rad
    'imu_accel_bias': 0.0,  # m/s^2
    'imu_accel_noise': 0.003,  # m/s^2
    'imu_accel_range': 50.0,  # m/s^2
    'lrf_max_range': 3000.0,  # m
    'lrf_sigma0': 0.5,  # m
    'lrf_sigma_rel': 0.001,  # 1
    'lrf_max_incidence': 1.2,  # rad
    'lrf_return_min': 1.0,  # 1
    'ndl_max_range': 5000.0,  # m
    'ndl_range_sigma': 3.0,  # m
    'ndl_velocity_sigma': 0.03,  # m/s
    'optical_max_altitude': 20000.0,  # m
    'optical_altitude_sigma': 15.0,  # m
    'optical_velocity_sigma': 0.3,  # m/s
    'optical_altitude_bias': 0.0,  # m
    'tanks_p_reg': 18.0,  # bar
    'tanks_p_he0': 150.0,  # bar
    'tanks_v_he': 70.0,  # L
    'tanks_volume': 600.0,  # L
    'tanks_rho': 1.18,  # kg/L
    'tanks_temp0': 21.0,  # degC
    'power_capacity': 40.0,  # Ah
    'power_r_batt': 0.08,  # ohm
    'power_i_avionics': 4.5,  # A
    'power_i_nonessential': 3.0,  # A
    'power_i_engine': 3.5,  # A
    'power_i_lrf': 0.8,  # A
    'power_avionics_temp0': 20.0,  # degC
    'touchdown_vz_design': 2.0,  # m/s
    'touchdown_vx_design': 0.5,  # m/s
    'touchdown_vz_max': 3.0,  # m/s
    'touchdown_vx_max': 1.0,  # m/s
    'touchdown_slope_max': 0.2126,  # 1
}

# (name, one-sigma spread, relative): how far the real vehicle may be from it
DISPERSION = (
    ('mass_dry', 0.005, True),
    ('mass_propellant', 2.0, False),
    ('main_engine_thrust', 0.01, True),
    ('main_engine_isp', 0.003, True),
    ('thrusters_thrust', 0.01, True),
    ('attitude_gyro_bias', 5e-05, False),
    ('imu_accel_bias', 0.002, False),
    ('optical_altitude_bias', 5.0, False),
    ('tanks_temp0', 1.0, False),
)
