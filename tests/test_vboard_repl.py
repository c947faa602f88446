"""The virtual Pico's REPL state machine, byte for byte, without a VM or a pty."""

from __future__ import annotations

from sil.repl import (
    PS1,
    RAW_BANNER,
    SOFT_REBOOT,
    Feed,
    Interrupt,
    Job,
    Outcome,
    Repl,
    Run,
    Send,
    SoftReset,
    State,
    continues,
)


def sent(actions: list) -> bytes:
    return b"".join(a.data for a in actions if isinstance(a, Send))


def at_prompt(autorun: bool = True) -> Repl:
    repl = Repl(autorun=autorun)
    assert repl.power_on() == [Run(Job.BOOT, b"boot.py")]
    assert repl.finished(Outcome.OK) == [Run(Job.MAIN, b"main.py")]
    out = repl.finished(Outcome.OK)
    assert sent(out).endswith(b'Type "help()" for more information.\r\n>>> ')
    return repl


def feed(repl: Repl, data: bytes) -> list:
    n, out = repl.receive(data)
    assert n == len(data)
    return out


def test_boot_runs_main_only_in_friendly_mode_with_autorun():
    repl = Repl(autorun=False)
    repl.power_on()
    assert sent(repl.finished(Outcome.OK)).endswith(PS1)
    assert repl.state is State.FRIENDLY


def test_friendly_line_runs_in_single_mode_and_prompts_again():
    repl = at_prompt()
    out = feed(repl, b"1+1\r")
    assert sent(out) == b"1+1\r\n"
    assert out[-1] == Run(Job.LINE, b"1+1")
    assert repl.cooked
    assert sent(repl.finished(Outcome.EXC, b"Traceback\nNameError\n")) == (
        b"Traceback\r\nNameError\r\n>>> "
    )


def test_friendly_editing_backspace_ctrl_c_and_compound_statements():
    repl = at_prompt()
    assert sent(feed(repl, b"ab\x7f")) == b"ab\b\x1b[K"
    assert sent(feed(repl, b"\x03")) == b"\r\n>>> "
    assert sent(feed(repl, b"for i in x:\r")) == b"for i in x:\r\n...     "
    assert sent(feed(repl, b"f(i)\r\r\r")) == b"f(i)\r\n...     \r\n...     \r\n... "
    out = feed(repl, b"\r")
    assert out[-1] == Run(Job.LINE, b"for i in x:\n    f(i)\n    \n    \n")


def test_friendly_paste_mode():
    repl = at_prompt()
    assert (
        sent(feed(repl, b"\x05")) == b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "
    )
    out = feed(repl, b"a=1\rb=2\x04")
    assert sent(out) == b"a=1\r\n=== b=2\r\n"
    assert out[-1] == Run(Job.PASTE, b"a=1\nb=2")


def test_ctrl_d_soft_resets_and_input_waits_for_the_new_vm():
    repl = at_prompt()
    out = feed(repl, b"\x04")
    assert sent(out) == b"\r\n" + SOFT_REBOOT and out[-1] == SoftReset()
    assert repl.receive(b"1+1\r") == (0, [])
    assert repl.boot() == [Run(Job.BOOT, b"boot.py")]


def test_raw_repl_as_mpremote_drives_it():
    repl = at_prompt()
    assert sent(feed(repl, b"\r\x03")) == b"\r\n>>> \r\n>>> "
    assert sent(feed(repl, b"\r\x01")) == b"\r\n>>> \r\n" + RAW_BANNER + b">"
    assert sent(feed(repl, b"\x04")) == b"OK\r\n" + SOFT_REBOOT  # soft reset: no main.py
    repl.boot()
    assert sent(repl.finished(Outcome.OK)) == RAW_BANNER + b">"
    out = feed(repl, b"print(1)\x04")
    assert out == [Send(b"OK"), Run(Job.RAW, b"print(1)")]
    assert sent(repl.finished(Outcome.OK)) == b"\x04\x04>"
    feed(repl, b"x\x04")
    assert sent(repl.finished(Outcome.EXC, b"E\n")) == b"\x04E\r\n\x04>"
    assert sent(feed(repl, b"junk\x03\r\x01")) == RAW_BANNER + b">"  # Ctrl-C clears
    assert sent(feed(repl, b"\r\x02")) == b"\r\n" + repl.banner + PS1


def test_raw_paste_flow_control():
    repl = at_prompt()
    feed(repl, b"\x01")
    assert sent(feed(repl, b"\x05A\x01")) == b"R\x01\x80\x00\x01"
    assert sent(feed(repl, b"#" * 300)) == b"\x01\x01"  # one per 128-byte window consumed
    out = feed(repl, b"\x04")
    assert out == [Send(b"\x04"), Run(Job.RAW, b"#" * 300)]
    feed(repl, b"x")  # serial RX while it runs goes to the code
    assert sent(repl.finished(Outcome.OK)) == b"\x04\x04>"
    assert sent(feed(repl, b"\x05B\x01")) == b"R\x00>"  # unknown raw-paste command


def test_system_exit_in_raw_repl_soft_resets():
    repl = at_prompt()
    feed(repl, b"\x01import sys; sys.exit()\x04")
    out = repl.finished(Outcome.EXIT)
    assert sent(out) == b"\x04\x04" + SOFT_REBOOT and out[-1] == SoftReset()


def test_interrupt_character_interrupts_running_code():
    repl = Repl()
    repl.power_on()
    n, out = repl.receive(b"ab\x03\r\x01")
    assert (n, out) == (3, [Feed(b"ab"), Interrupt()])
    assert repl.holding


def test_break_in_with_kbd_intr_disabled_delivers_0x03_then_holds():
    repl = Repl()
    repl.power_on()
    assert repl.finished(Outcome.OK) == [Run(Job.MAIN, b"main.py")]
    repl.set_interrupt_char(-1)
    n, out = repl.receive(b"\x00\x11\x03\x22")
    assert (n, out) == (3, [Feed(b"\x00\x11\x03")])
    assert repl.holding
    repl.release()  # the firmware kept running: the rest is data too
    assert repl.receive(b"\x22") == (1, [Feed(b"\x22")])
    n, out = repl.receive(b"\r\x03\r\x01")
    assert n == 2 and repl.holding
    repl.finished(Outcome.EXC, b"KeyboardInterrupt: \n")  # it stopped: the REPL takes over
    assert sent(feed(repl, b"\r\x01")).endswith(RAW_BANNER + b">")


def test_every_execution_starts_with_ctrl_c_enabled():
    repl = at_prompt()
    feed(repl, b"x\r")
    repl.set_interrupt_char(-1)
    repl.finished(Outcome.OK)
    feed(repl, b"y\r")
    assert repl.interrupt_char == 3


def test_continuation_rules():
    assert continues(b"if x:")
    assert continues(b"@decorator")
    assert continues(b"f(1,")
    assert continues(b"s = '''abc")
    assert continues(b"x = 1 + \\")
    assert not continues(b"if x: y\n")
    assert not continues(b"iffy = 1")
    assert not continues(b"s = '(' ")
    assert not continues(b"print('a\\'(')")
