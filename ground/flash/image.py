"""Image: everything the board's flash should hold after a flash, name by name.

The build (the firmware's .mpy files and main.py), the provision (config.json, the key) and
`firmware.json`, the on-board manifest listing all of them with their SHA-256. The manifest
is how a later flash knows which files on the board are the firmware's: a module dropped from
the firmware is removed from the board, a user's own files are left alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ground.firmware import FLASH_MANIFEST

from .build import Build, sha256
from .provision import Provision

__all__ = ["MANIFEST", "Image"]

MANIFEST = FLASH_MANIFEST


@dataclass(frozen=True)
class Image:
    """File name on the board -> bytes, in the order they are copied (the manifest last)."""

    files: dict[str, bytes]
    secrets: frozenset[str] = frozenset()

    @classmethod
    def of(cls, build: Build, provision: Provision) -> Image:
        files = {**build.files, **provision.files()}
        manifest = {
            "compiler": build.compiler,
            "march": build.march,
            "files": {name: sha256(data) for name, data in sorted(files.items())},
        }
        files[MANIFEST] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
        return cls(files, provision.secrets)

    @property
    def names(self) -> list[str]:
        return list(self.files)

    def hashes(self) -> dict[str, str]:
        return {name: sha256(data) for name, data in self.files.items()}

    @staticmethod
    def listed(manifest: str | None) -> set[str]:
        """The files a board's previous manifest lists (none if it is missing or damaged)."""
        try:
            files = json.loads(manifest or "")["files"]
        except (ValueError, KeyError, TypeError):
            return set()
        return set(files) if isinstance(files, dict) else set()
