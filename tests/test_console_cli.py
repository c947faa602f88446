"""``lander console``'s mistakes: one line each, with the exit status of their kind."""

from __future__ import annotations

import pytest

from ground.cli import main


@pytest.mark.parametrize(
    ("argv", "status", "says"),
    [
        (["--link", "nosuch://x"], 3, "unknown link 'nosuch://x'"),
        (["--link", "/dev/ttyNOPE"], 3, "no serial port /dev/ttyNOPE"),
        (["--link", "sil://", "--plot", "NAV.nope"], 2, "--plot packet NAV has no field"),
        (["--link", "sil://", "--plot", "HK.phase"], 2, "cannot be plotted"),
        (["--link", "sil://", "--plot", "altitude"], 2, "as PACKET.field"),
        (["--link", "mqtt://127.0.0.1:1"], 3, "names no vehicle: mqtt://host:1883/LANDER-1"),
    ],
)
def test_mistakes_are_one_line(capsys, argv, status, says):
    assert main(["console", *argv]) == status
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.startswith("lander console: ")


def test_a_bad_refresh_rate_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["console", "--link", "sil://", "--refresh", "0"])
    assert exit.value.code == 2
    assert "must be greater than 0" in capsys.readouterr().err
