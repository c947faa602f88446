# The flight software's top level: loads config.json, builds the telemetry points, the
# downlink, the uplink and the lander model, and runs them as asyncio tasks.
#
# One control task owns the vehicle clock: each cycle advances simulated time by CYCLE_MS,
# steps the model and sends the telemetry that is due, then sleeps until the next cycle's
# real-time deadline (CYCLE_MS / time_warp). Everything on the downlink is therefore a
# function of the seed and the commands received, not of how fast the host runs.
import asyncio
import gc
import json
import time

import hal
import packets as P
from clock import Clock
from commanding import Commanding
from downlink import Downlink
from flight import Flight
from micropython import const
from uplink import Break, Uplink

CYCLE_MS = const(20)
WATCHDOG_MS = const(8000)

DEFAULTS = {"vehicle": "LANDER-1", "seed": 1, "time_warp": 1, "autostart": False, "rates": {}}


def load_config(path="config.json"):
    cfg = dict(DEFAULTS)
    try:
        with open(path) as f:
            cfg.update(json.load(f))
    except OSError:
        pass
    except ValueError:
        print("config.json is not valid JSON; using defaults")
    return cfg


class App:
    def __init__(self, cfg):
        self.cfg = cfg
        self.points = P.new_points()
        self.clock = Clock(cfg.get("epoch", 0))
        self.down = Downlink(self.points, self.clock)
        self.commanding = Commanding(self, cfg)
        self.up = Uplink(self.commanding.on_frame)
        self.flight = Flight(self.points, self.event, cfg.get("seed", 1))
        self.warp = max(1, int(cfg.get("time_warp", 1)))
        self.overruns = 0
        for name, hz in cfg.get("rates", {}).items():
            if name in P.NAMES:
                self.down.set_rate_mhz(P.NAMES.index(name), int(hz * 1000))
        self.points[P.HK].mode = P.MODE_NOMINAL

    def event(self, event_id, severity, arg1=0, arg2=0, arg3=0):
        ev = self.points[P.EVENT]
        ev.event_id = event_id
        ev.severity = severity
        ev.arg1 = arg1
        ev.arg2 = arg2
        ev.arg3 = arg3
        self.down.send(P.EVENT)

    def set_time_warp(self, factor):
        # SET_TIME_WARP: simulated seconds per real second (0, or the reason it is refused).
        self.warp = max(1, int(factor))
        return 0

    def update_hk(self):
        hk = self.points[P.HK]
        hk.uptime = self.clock.sec
        hk.tm_sent = self.down.sent
        hk.heap_free = gc.mem_free()
        hk.board_temp = hal.temp_raw()
        hk.loop_overruns = self.overruns

    async def control(self):
        period_us = CYCLE_MS * 1000 // self.warp
        deadline = time.ticks_us()
        while True:
            self.clock.advance(CYCLE_MS)
            self.flight.step(CYCLE_MS / 1000)
            self.update_hk()
            self.down.run_due(self.clock.now_ms())
            deadline = time.ticks_add(deadline, period_us)
            late = time.ticks_diff(time.ticks_us(), deadline)
            if late > period_us:
                self.overruns += 1
                deadline = time.ticks_us()
                late = 0
            await asyncio.sleep_ms(max(0, -late) // 1000)

    async def housekeeping(self):
        # The hardware watchdog starts when the vehicle leaves IDLE: from then on a hung loop
        # must reset the board. Not before, because an RP2040 watchdog cannot be stopped and
        # survives a soft reset: on the bench it would reset the board under mpremote or
        # `lander flash` 8 s after a break-in.
        on = False
        watchdog = False
        while True:
            if not watchdog and self.flight.phase != P.PHASE_IDLE:
                hal.wdt_start(WATCHDOG_MS)
                watchdog = True
            if watchdog:
                hal.wdt_feed()
            on = not on
            hal.led(on)
            gc.collect()
            await asyncio.sleep_ms(500)

    async def uplink(self):
        while True:
            self.up.poll()
            await asyncio.sleep_ms(10)

    async def main(self):
        self.event(P.EVENT_ID_BOOT, P.SEVERITY_INFO, self.flight.rng.x & 0xFFFF, self.warp, 0)
        if self.cfg.get("autostart"):
            self.flight.start_descent()
        asyncio.create_task(self.control())
        asyncio.create_task(self.housekeeping())
        await self.uplink()


def main():
    cfg = load_config()
    hal.configure(cfg)
    app = App(cfg)
    hal.set_break(False)
    try:
        asyncio.run(app.main())
    except Break:
        app.event(P.EVENT_ID_BREAK_IN, P.SEVERITY_WARNING)
        hal.set_break(True)
        raise KeyboardInterrupt
    finally:
        hal.set_break(True)
