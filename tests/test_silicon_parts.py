"""The silicon board's pure parts: the runner's framing and where its binaries come from."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sil.silicon import wire
from sil.silicon.images import (
    BOOTROM,
    MICROPYTHON,
    ImageError,
    bootrom_from_rp2040js_demo,
    locate,
    sha256_of,
)

from .silicon_boards import rp2_dir

KINDS = st.sampled_from([wire.CDC, wire.UART, wire.CONTROL, wire.EVENT])


@given(st.lists(st.tuples(KINDS, st.binary(max_size=300)), max_size=20), st.data())
def test_frames_come_out_whole_however_the_pipe_splits_them(frames, data):
    stream = b"".join(wire.frame(kind, payload) for kind, payload in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    deframer, out, start = wire.Deframer(), [], 0
    for cut in [*cuts, len(stream)]:
        out += deframer.feed(stream[start:cut])
        start = cut
    assert out == frames


def test_a_corrupt_length_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="corrupt"):
        wire.Deframer().feed(b"c" + struct.pack(">I", wire.MAX_PAYLOAD + 1))


def test_a_missing_binary_names_the_file_and_where_to_get_it(tmp_path: Path):
    with pytest.raises(ImageError) as err:
        locate(MICROPYTHON, tmp_path)
    assert MICROPYTHON.name in str(err.value) and "micropython.org" in str(err.value)


def test_a_boot_rom_that_is_not_the_pinned_build_is_refused(tmp_path: Path):
    (tmp_path / BOOTROM.name).write_bytes(bytes(16384))
    with pytest.raises(ImageError, match="not the pinned one"):
        locate(BOOTROM, tmp_path)


def test_a_micropython_image_must_be_a_uf2(tmp_path: Path):
    (tmp_path / MICROPYTHON.name).write_bytes(b"<html>not found</html>")
    with pytest.raises(ImageError, match="not a UF2"):
        locate(MICROPYTHON, tmp_path)


def test_the_boot_rom_download_turns_rp2040js_demo_back_into_the_pinned_rom():
    rom = rp2_dir() / BOOTROM.name
    if not rom.is_file():
        pytest.skip(f"no {BOOTROM.name} in {rp2_dir()}")
    words = struct.unpack("<4096I", rom.read_bytes())
    lines = ",\n".join(f"  0x{w:08x}" for w in words)
    demo = f"// B1\nexport const bootromB1 = new Uint32Array([\n{lines},\n]);\n"
    assert sha256_of(rom) == BOOTROM.sha256
    assert bootrom_from_rp2040js_demo(demo) == rom.read_bytes()
