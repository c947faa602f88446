"""Keep every test away from the user's own ground files: keys, counters, history, boards'
flash and builds go to the test's temporary folder (a `sil://` board or `lander sil` makes a
key on first use)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_ground_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("ground")
    monkeypatch.setenv("LANDER_KEY_DIR", str(home / "keys"))
    monkeypatch.setenv("LANDER_HISTORY", str(home / "history.jsonl"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
