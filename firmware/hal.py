# Hardware layer: the only module that differs between the rp2 port (a Pico) and the unix
# port (the virtual board). Everything above it sees the same few functions.
#
# Serial: telemetry goes out and telecommands come in on the board's serial port, which is
# USB CDC (the REPL's port) by default or a machine.UART when config.json asks for one.
# On the virtual board the VM's stdin/stdout are the port and stderr carries "@vb" messages
# to the board emulator for what a Pico does in hardware (interrupt character, watchdog, LED).
import gc
import select
import sys

import micropython

PORT = sys.platform  # "rp2" on a Pico, "linux" on the virtual board

_b1 = bytearray(1)
_out = sys.stdout.buffer
_in = sys.stdin.buffer
_poll = select.poll()
_uart = None
_wdt = None

if PORT == "rp2":
    import machine

    _led = machine.Pin("LED", machine.Pin.OUT)
    _adc = machine.ADC(4)

    def _vb(msg):
        pass

else:
    _led = None
    _adc = None
    _die_c = 27.0  # simulated die temperature

    def _vb(msg):
        sys.stderr.write("@vb ")
        sys.stderr.write(msg)
        sys.stderr.write("\n")


def configure(cfg):
    # Use a UART for telemetry and commands when cfg has {"uart": {"id", "baud", "tx", "rx"}};
    # the USB port then stays free for the REPL.
    global _out, _in, _uart
    u = cfg.get("uart") if cfg else None
    if u and PORT == "rp2":
        _uart = machine.UART(
            u.get("id", 0), baudrate=u.get("baud", 115200),
            tx=machine.Pin(u.get("tx", 0)), rx=machine.Pin(u.get("rx", 1)),
        )
        _out = _uart
        _in = _uart
    _poll.register(_uart if _uart else sys.stdin, select.POLLIN)


def write(buf, n):
    # Write buf[0:n] to the serial port without slicing (no allocation).
    _out.write(buf, n)  # type: ignore[call-overload]  # MicroPython streams: write(buf, n)


def read_byte():
    # Next received byte, or -1 when none is waiting.
    for _ in _poll.ipoll(0):
        if _in.readinto(_b1) == 1:  # type: ignore[union-attr]  # (stub lacks it; rp2 has it)
            return _b1[0]
    return -1


def set_break(enabled):
    # Ctrl-C interrupts the firmware only when enabled; disabled while reading telecommands,
    # whose frames may carry 0x03 (see firmware/uplink.py for how a break-in still works).
    # (The virtual board's micropython.kbd_intr tells the board, as the USB stack knows.)
    if _uart is None:
        micropython.kbd_intr(3 if enabled else -1)


def repl_port():
    # Whether telecommands come in on the REPL's own port (USB), where a break-in must work.
    return _uart is None


def rx_data_ctrl_c():
    # A 0x03 just read from the serial port was data (inside a telecommand frame), not a
    # break-in: the firmware keeps reading. A Pico needs no word of it, since unread bytes
    # wait in its USB buffer; the virtual board holds serial RX after a 0x03 until the code
    # stops or says this, so that a real break-in leaves what follows to the REPL.
    _vb("rx")


def led(on):
    if _led is not None:
        _led.value(1 if on else 0)
    else:
        _vb("led 1" if on else "led 0")


def temp_raw():
    # ADC4 counts (read_u16) of the RP2040's temperature sensor.
    if _adc is not None:
        return _adc.read_u16()
    volts = 0.706 - (_die_c - 27.0) * 0.001721
    return int(volts * 65535 / 3.3)


def set_sim_temp(celsius):
    # The virtual board's die temperature follows the simulated electronics load.
    global _die_c
    _die_c = celsius


def wdt_start(timeout_ms):
    global _wdt
    if PORT == "rp2":
        _wdt = machine.WDT(timeout=timeout_ms)
    else:
        _vb("wdt %d" % timeout_ms)


def wdt_feed():
    if _wdt is not None:
        _wdt.feed()
    else:
        _vb("feed")


_wlan = None


def network_up(cfg):
    # Whether the network is there for the MQTT link: on a Pico W, WiFi joins the network of
    # config.json "wifi": {"ssid", "password"} (started once, then polled, never waited
    # for); the virtual board has the host's.
    global _wlan
    if PORT != "rp2":
        return True
    try:
        import network
    except ImportError:  # a Pico without WiFi
        return False

    if _wlan is None:
        w = cfg.get("wifi") or {}
        _wlan = network.WLAN(network.STA_IF)
        _wlan.active(True)
        _wlan.connect(w.get("ssid", ""), w.get("password", ""))
    return _wlan.isconnected()


def heap_free():
    return gc.mem_free()


def reset():
    import machine  # the virtual board's machine module has reset() too

    machine.reset()
