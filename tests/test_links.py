"""Links by URL: link types register themselves (tests/test_ground_alone.py: the ground
imports none it does not own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.links import LinkError, link_factory, link_schemes, open_link, register_link

GROUND = Path(__file__).resolve().parent.parent / "ground"


def test_sil_comes_from_its_package_through_the_lander_links_entry_point():
    assert "sil" in link_schemes()
    factory = link_factory("sil")
    assert factory is not None and factory.__module__ == "sil.link"


def test_a_link_type_registered_in_process_opens_by_its_scheme():
    opened = []

    def factory(url: str):
        opened.append(url)
        return open_link("loop://")

    register_link("bench", factory)
    link = open_link("bench://rig-3?rate=5")
    link.close()
    assert opened == ["bench://rig-3?rate=5"]
    assert "bench" in link_schemes()


def test_an_unknown_scheme_is_one_line_naming_the_known_ones():
    with pytest.raises(LinkError, match=r"unknown link 'gopher://x'.*sil://"):
        open_link("gopher://x")
