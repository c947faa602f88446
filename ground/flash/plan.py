"""Plan: what a flash changes on the board, from the image and the board's own hashes.

A file is copied when its SHA-256 on the board differs from the image's (or it is missing),
and left alone when it matches. Files go, too: a module's old `.py` (MicroPython imports
`app.py` before `app.mpy`, so it would shadow the new module), a module the previous
manifest lists but the firmware no longer has, and staged copies an interrupted flash left.
Nothing else on the board is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from .board import Survey
from .image import Image
from .progress import size_text

__all__ = ["STAGED", "Plan", "make_plan"]

STAGED = ".flashing"  # suffix of a file copied but not switched to yet


@dataclass(frozen=True)
class Plan:
    copy: list[str]  # in the image's order
    new: frozenset[str]  # those of `copy` the board does not have at all
    unchanged: list[str]
    stale: list[str]  # staged copies of an interrupted flash: removed before copying
    remove: dict[str, str]  # name -> why: removed when switching to the new files

    @property
    def changes(self) -> bool:
        return bool(self.copy or self.stale or self.remove)

    def lines(self, image: Image, dry_run: bool) -> list[str]:
        """One line per change, then the unchanged files in one line."""
        verb = "would " if dry_run else ""
        out = [f"{verb}remove {name} (left by an interrupted flash)" for name in self.stale]
        if dry_run:
            for name in self.copy:
                why = "new" if name in self.new else "changed"
                out.append(f"would copy {name} ({size_text(len(image.files[name]))}, {why})")
        out += [f"{verb}remove {name} ({why})" for name, why in self.remove.items()]
        if self.unchanged:
            out.append(f"unchanged: {', '.join(self.unchanged)}")
        return out


def make_plan(image: Image, survey: Survey) -> Plan:
    want = image.hashes()
    copy = [name for name in image.names if survey.hashes.get(name) != want[name]]
    listed = Image.listed(survey.manifest)
    stale, remove = [], {}
    for name in sorted(survey.files - set(image.files)):
        if name.endswith(STAGED):
            stale.append(name)
        elif name.endswith(".py") and name[:-3] + ".mpy" in image.files:
            remove[name] = f"it would shadow {name[:-3]}.mpy"
        elif name in listed:
            remove[name] = "no longer part of the firmware"
    return Plan(
        copy=copy,
        new=frozenset(name for name in copy if survey.hashes.get(name) is None),
        unchanged=[name for name in image.names if name not in copy],
        stale=stale,
        remove=remove,
    )
