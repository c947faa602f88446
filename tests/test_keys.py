"""Ground key and counter files: made private on first use, refused when open to others,
never printed; counters only ever rise, across processes."""

from __future__ import annotations

import stat

import pytest

from ground import keys


@pytest.fixture(autouse=True)
def key_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDER_KEY_DIR", str(tmp_path / "keys"))
    return tmp_path / "keys"


def test_a_key_is_made_on_first_use_with_mode_0600_and_then_reused(key_dir):
    key = keys.load_key("LANDER-7")
    path = key_dir / "LANDER-7.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert len(key.secret) == 32 and 1 <= key.key_id <= 0xFFFF
    assert keys.load_key("LANDER-7") == key
    assert key.secret.hex() not in repr(key) and key.secret.hex() not in str(key)


def test_a_key_file_others_can_read_is_refused_with_the_fix(key_dir):
    keys.load_key("V")
    path = key_dir / "V.key"
    path.chmod(0o644)
    with pytest.raises(keys.KeyFileError, match=f"open to other users: chmod 600 {path}"):
        keys.load_key("V")


def test_bad_key_files_and_names_get_one_line(key_dir, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not json")
    bad.chmod(0o600)
    with pytest.raises(keys.KeyFileError, match="unreadable or malformed"):
        keys.load_key("V", bad)
    with pytest.raises(keys.KeyFileError, match="no key file"):
        keys.load_key("V", tmp_path / "missing.key", create=False)
    with pytest.raises(keys.KeyFileError, match="must be letters"):
        keys.load_key("../etc/passwd")


def test_counters_rise_across_instances_and_never_fall_below_the_vehicle(key_dir):
    a = keys.CounterFile.for_vehicle("V")
    b = keys.CounterFile.for_vehicle("V")  # another ground tool on the same vehicle
    assert [a.reserve(), b.reserve(), a.reserve()] == [1, 2, 3]
    b.observe(40)
    assert a.reserve() == 41
    a.observe(10)  # an older report changes nothing
    assert b.reserve() == 42


def test_every_vehicle_gets_its_own_key_id(key_dir):
    ids = [keys.load_key(f"LANDER-{n}").key_id for n in range(50)]
    assert len(set(ids)) == len(ids)


def test_a_malformed_or_negative_counter_file_is_one_line(key_dir):
    key_dir.mkdir(mode=0o700)
    for text in ("-5", "4294967296", "seven"):
        (key_dir / "V.counter").write_text(text + "\n")
        with pytest.raises(keys.KeyFileError, match="V.counter is malformed"):
            keys.CounterFile.for_vehicle("V").reserve()


def test_a_key_file_named_is_never_made(tmp_path):
    with pytest.raises(keys.KeyFileError, match="no key file"):
        keys.load_key("V", tmp_path / "typo.key")
    assert not (tmp_path / "typo.key").exists()
