"""The silicon board as a Pico on a cable: MicroPython's rp2 port on the emulated RP2040,
opened through its pty by pyserial and mpremote. Each gap the runner fills in rp2040js
(README, "The silicon board") has a test here of what it restores.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from mpremote.transport_serial import SerialTransport

from sil.silicon import SiliconBoard

from .silicon_boards import board, mpremote

pytestmark = [pytest.mark.silicon, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def pico(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiliconBoard]:
    """A Pico fresh from the factory: MicroPython installed, an empty filesystem."""
    with board(tmp_path_factory.mktemp("pico") / "pico.flash") as b:
        yield b


def device(port: str, code: str) -> str:
    """Run ``code`` on the board (mpremote exec) and return what it printed."""
    result = mpremote(port, "exec", code)
    assert result.returncode == 0, result.stderr
    return result.stdout


class Raw:
    """The raw REPL through mpremote's transport, for code that talks to the host while
    it runs."""

    def __init__(self, port: str) -> None:
        self.t = SerialTransport(port, baudrate=115200)
        self.t.enter_raw_repl()

    def start(self, code: str) -> None:
        self.t.exec_raw_no_follow(code)

    def until(self, text: bytes, timeout: float = 20) -> bytes:
        self.t.serial.timeout = timeout
        got = self.t.serial.read_until(text)
        assert got.endswith(text), got
        return got

    def finish(self, timeout: float = 20) -> str:
        out, err = self.t.follow(timeout)
        assert not err, err
        return out.decode()

    def close(self) -> None:
        self.t.close()


def test_the_boot_rom_starts_micropython_for_the_pico(pico: SiliconBoard) -> None:
    # gaps 1 and 2: the boot ROM neither parks (chip reset flags) nor starts USB mass
    # storage (BOOTSEL strap); the image in flash runs and its USB console enumerates
    out = device(pico.port, "import sys, os; print(sys.platform, sys.implementation._machine)")
    assert out.strip() == "rp2 Raspberry Pi Pico with RP2040"
    assert pico.causes == ["power"]


def test_the_filesystem_is_a_picos_and_outlives_resets_and_restarts(tmp_path: Path) -> None:
    # gap 3: littlefs is formatted and written through the flash chip model; the flash
    # file keeps it across power cycles and a new emulator
    flash = tmp_path / "pico.flash"
    payload = tmp_path / "data.bin"
    payload.write_bytes(os.urandom(8000))
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    with board(flash) as b:
        assert device(b.port, "import os; print(os.statvfs('/')[:3])").strip() == (
            "(4096, 4096, 352)"  # 1,408 KiB of littlefs, as on a Pico
        )
        assert mpremote(b.port, "cp", str(payload), ":data.bin").returncode == 0
        b.reset(power=True)
        assert digest in mpremote(b.port, "sha256sum", ":data.bin").stdout
    assert flash.stat().st_size == 2 * 1024 * 1024
    with board(flash) as b:
        assert digest in mpremote(b.port, "sha256sum", ":data.bin").stdout
        assert b.causes == ["power"]


def test_console_output_flows_without_the_host_asking(pico: SiliconBoard) -> None:
    # gap 4: MicroPython's CDC flushes after SOF interrupts; without them output stalls
    out = device(pico.port, "for i in range(400):\n    print('%03d' % i + 'x' * 246)")
    lines = out.splitlines()
    assert len(lines) == 400
    assert lines[-1] == "399" + "x" * 246


def test_binary_host_bytes_reach_the_firmware_unchanged(pico: SiliconBoard) -> None:
    # gap 5: every octet, far more than one USB packet or the stock 512-byte buffer
    data = bytes(range(256)) * 64 + os.urandom(8192)
    raw = Raw(pico.port)
    try:
        raw.start(
            "import sys, micropython, hashlib, binascii\n"
            "micropython.kbd_intr(-1)\n"
            "h = hashlib.sha256(); n = 0\n"
            "print('ready')\n"
            f"while n < {len(data)}:\n"
            f"    b = sys.stdin.buffer.read(min(512, {len(data)} - n))\n"
            "    h.update(b); n += len(b)\n"
            "micropython.kbd_intr(3)\n"
            "print(n, binascii.hexlify(h.digest()).decode())\n"
        )
        raw.until(b"ready\r\n")
        raw.t.serial.write(data)
        out = raw.finish()
    finally:
        raw.close()
    assert out.split() == [str(len(data)), hashlib.sha256(data).hexdigest()]


def test_uart0_writes_and_reads_whole_messages(pico: SiliconBoard) -> None:
    # gap 6: the first interrupt-driven UART write returns; gap 7: a 256-byte read gets
    # 256 bytes, the host's burst paced at the line's character time
    sent = bytes(range(256))
    with serial.Serial(pico.uart_port, timeout=10) as uart:
        raw = Raw(pico.port)
        try:
            raw.start(
                "from machine import UART, Pin\n"
                "u = UART(0, 115200, tx=Pin(0), rx=Pin(1), timeout=10000, timeout_char=50)\n"
                "u.write(b'lander uart ' * 20)\n"
                "d = u.read(256)\n"
                "print(len(d), d == bytes(range(256)))\n"
            )
            assert uart.read(240) == b"lander uart " * 20
            uart.write(sent)
            out = raw.finish()
        finally:
            raw.close()
    assert out.split() == ["256", "True"]


def test_the_device_waits_for_a_slow_host_in_real_time(pico: SiliconBoard) -> None:
    # gap 8: emulated time never runs ahead of the host's, so a device-side timeout of 3 s
    # is still waiting when the host answers after a second
    raw = Raw(pico.port)
    try:
        raw.start(
            "import sys, select, time, micropython\n"
            "micropython.kbd_intr(-1)\n"
            "p = select.poll(); p.register(sys.stdin, select.POLLIN)\n"
            "print('waiting')\n"
            "ready = p.poll(3000)\n"
            "got = sys.stdin.buffer.read(1) if ready else b''\n"
            "micropython.kbd_intr(3)\n"
            "print(len(ready), got)\n"
        )
        raw.until(b"waiting\r\n")
        time.sleep(1.0)  # the host is slow to answer: that is the point of the test
        raw.t.serial.write(b"!")
        out = raw.finish()
    finally:
        raw.close()
    assert out.split() == ["1", "b'!'"]


def test_mpremote_mount_runs_host_files_on_the_board(pico: SiliconBoard, tmp_path: Path) -> None:
    # gap 8 again, as a user meets it: mount answers the device's file requests in time
    (tmp_path / "greeting.py").write_text("TEXT = 'hello from the host'\n")
    result = mpremote(
        pico.port, "mount", str(tmp_path), "exec", "import greeting; print(greeting.TEXT)"
    )
    assert result.returncode == 0, result.stderr
    assert "hello from the host" in result.stdout


def test_machine_reset_restarts_the_chip_and_keeps_the_flash(pico: SiliconBoard) -> None:
    # gap 9: machine.reset() is a watchdog reset; the host's port stays open across it
    device(pico.port, "open('kept.txt', 'w').write('still here')")
    boots = pico.boots
    raw = Raw(pico.port)
    try:
        raw.start("import machine; machine.reset()")
        pico.wait_console(boots + 1)
    finally:
        raw.close()
    assert pico.causes[-1] == "watchdog"
    out = device(
        pico.port,
        "import machine\n"
        "print(machine.reset_cause() == machine.WDT_RESET, open('kept.txt').read())",
    )
    assert out.strip() == "True still here"


def test_a_starved_watchdog_resets_the_chip(pico: SiliconBoard) -> None:
    boots = pico.boots
    device(pico.port, "from machine import WDT; WDT(timeout=1000)")  # then nobody feeds it
    pico.wait_console(boots + 1, timeout=30)
    assert pico.causes[-1] == "watchdog"
    out = device(pico.port, "import machine; print(machine.reset_cause() == machine.WDT_RESET)")
    assert out.strip() == "True"


def test_the_temperature_sensor_reads_the_die_temperature(pico: SiliconBoard) -> None:
    pico.set_temperature(41.0)
    out = device(
        pico.port,
        "import machine\n"
        "v = machine.ADC(4).read_u16() * 3.3 / 65535\n"
        "print('%.1f' % (27 - (v - 0.706) / 0.001721))",
    )
    assert abs(float(out) - 41.0) < 1.0  # one step of the 12-bit ADC is 0.47 C


def test_the_console_is_also_a_tcp_port(tmp_path: Path) -> None:
    with board(tmp_path / "pico.flash", tcp=True) as b:
        assert b.url.startswith("socket://127.0.0.1:")
        assert device(b.url, "print(6 * 7)").strip() == "42"
