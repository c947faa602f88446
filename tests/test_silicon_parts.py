"""The silicon board's pure parts: the runner's framing and where its binaries come from."""

from __future__ import annotations

import shutil
import struct
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sil.silicon import wire
from sil.silicon.images import (
    BOOTROM,
    MICROPYTHON,
    MIRROR_ENV,
    RP2_DIR_ENV,
    ImageError,
    bootrom_from_rp2040js_demo,
    cache_dir,
    locate,
    sha256_of,
)

from .silicon_boards import rp2_dir

KINDS = st.sampled_from([wire.CDC, wire.UART, wire.CONTROL, wire.EVENT])


@settings(deadline=None)  # pure and quick, but a loaded machine may stall any one example
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


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder served over HTTP on 127.0.0.1 as $LANDER_RP2_MIRROR, holding copies of the
    binaries; no $LANDER_RP2_DIR, an empty cache."""
    served = tmp_path / "served"
    served.mkdir()
    for binary in (BOOTROM, MICROPYTHON):
        source = rp2_dir() / binary.name
        if not source.is_file():
            pytest.skip(f"no {binary.name} in {rp2_dir()}")
        shutil.copyfile(source, served / binary.name)
    handler = partial(QuietHandler, directory=str(served))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        monkeypatch.delenv(RP2_DIR_ENV, raising=False)
        monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}/rp2/")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        try:
            yield served
        finally:
            server.shutdown()
            thread.join()


class QuietHandler(SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        return super().translate_path(path.removeprefix("/rp2"))

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_binaries_are_fetched_once_from_a_mirror_and_checked(mirror: Path):
    for binary in (BOOTROM, MICROPYTHON):
        path = locate(binary)
        assert path == cache_dir() / binary.name
        assert path.read_bytes() == (mirror / binary.name).read_bytes()
    (mirror / BOOTROM.name).unlink()  # kept in the cache: not fetched again
    assert locate(BOOTROM) == cache_dir() / BOOTROM.name


def test_a_tampered_download_is_refused_and_not_kept(mirror: Path):
    uf2 = bytearray((mirror / MICROPYTHON.name).read_bytes())
    uf2[4096] ^= 0x01  # one bit of the firmware changed on the way
    (mirror / MICROPYTHON.name).write_bytes(uf2)
    with pytest.raises(ImageError, match="is not the pinned one"):
        locate(MICROPYTHON)
    assert not (cache_dir() / MICROPYTHON.name).exists()


def test_an_unreachable_mirror_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(RP2_DIR_ENV, raising=False)
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9/")  # the discard port: refused
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ImageError, match="cannot download .* from http://127.0.0.1:9/"):
        locate(BOOTROM)
