"""The virtual board's control protocol with its VM, and its cable's faults, without a
process: every message the agent and the firmware send, in any pieces the pipe gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sil.control import (
    LINE_LIMIT,
    MAGIC,
    ControlReader,
    Done,
    Hello,
    KbdIntr,
    Led,
    MachineReset,
    Malformed,
    Output,
    RxWasData,
    Started,
    WatchdogFeed,
    WatchdogStart,
    job_frame,
)
from sil.faults import Cable, Faults
from sil.repl import Job, Outcome

STDERR = (
    b"@vb hello 1.28.0 on 2026-01-01\n"
    b"@vb run\n"
    b"@vb kbd -1\n"
    b"@vb wdt 2000\n@vb feed\n@vb led 1\n@vb led 0\n"
    b"@vb rx\n"
    b"@vb done exc " + b"Traceback: boom\n".hex().encode() + b"\n"
    b"@vb done ok\n@vb done exit\n"
    b"MemoryError: memory allocation failed\n"
    b"@vb reset\r\n"
)
MESSAGES = [
    Hello(b"1.28.0 on 2026-01-01"),
    Started(),
    KbdIntr(-1),
    WatchdogStart(2000),
    WatchdogFeed(),
    Led(True),
    Led(False),
    RxWasData(),
    Done(Outcome.EXC, b"Traceback: boom\n"),
    Done(Outcome.OK),
    Done(Outcome.EXIT),
    Output("MemoryError: memory allocation failed"),
    MachineReset(),
]


def test_every_message_is_understood():
    assert ControlReader().feed(STDERR) == MESSAGES


@given(st.lists(st.integers(0, len(STDERR)), max_size=20))
def test_the_pieces_the_pipe_gives_do_not_matter(cuts: list[int]):
    reader, got, last = ControlReader(), [], 0
    for cut in [*sorted(cuts), len(STDERR)]:
        got += reader.feed(STDERR[last:cut])
        last = cut
    assert got == MESSAGES


def test_garbled_messages_are_never_acted_on_and_a_job_always_ends():
    got = ControlReader().feed(b"@vb kbd x\n@vb wdt soon\n@vb frobnicate\n@vb done exc zz\n")
    assert got[:3] == [
        Malformed(b"@vb kbd x"),
        Malformed(b"@vb wdt soon"),
        Malformed(b"@vb frobnicate"),
    ]
    assert got[3] == Done(Outcome.EXC, b"(the board lost this error)\n")  # the REPL goes on


def test_a_line_too_long_for_a_message_is_output_and_what_follows_is_read():
    reader = ControlReader()
    assert reader.feed(b"x" * (LINE_LIMIT + 1)) == [Output("x" * (LINE_LIMIT + 1))]
    assert reader.feed(b"\n@vb run\n") == [Output(""), Started()]


def test_a_job_is_framed_so_unread_serial_bytes_before_it_are_skipped():
    frame = job_frame(Job.RAW, b"print(1)")
    assert frame == MAGIC + b"x" + (8).to_bytes(4, "big") + b"print(1)"
    assert job_frame(Job.MAIN, b"main.py")[len(MAGIC)] == ord("f")
    assert job_frame(Job.LINE, b"1+1")[len(MAGIC)] == ord("s")


def test_the_flash_faults_go_to_the_agent():
    assert Faults().agent_args() == ["size=1441792"]
    assert Faults(flash_size=None, bad_flash=True).agent_args() == ["bitflip"]


def test_a_cable_pulled_after_so_many_bytes():
    cable = Cable(Faults(unplug_after=10))
    assert cable.receive(b"123456789") == b"123456789"
    assert cable.receive(b"0") is None
    assert cable.received == 10


def test_a_board_that_resets_when_the_port_opens_loses_what_arrives_while_it_boots():
    cable = Cable(Faults(reset_on_open=True))
    assert cable.opened()
    assert cable.receive(b"\x03\x01") == b""
    cable.booted()
    assert cable.receive(b"\x03\x01") == b"\x03\x01"
    assert not Cable(Faults()).opened()
