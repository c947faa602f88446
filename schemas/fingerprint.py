"""The dictionary's identity: a SHA-256 of its canonical form.

Telemetry (IDENT.dictionary) says which dictionary the firmware was generated from, so the
ground can tell when it decodes a vehicle with a dictionary that is not its own. The hash is
over what the dictionary files define (both TOML documents, parsed, keys sorted), not their
bytes: comments and layout do not change it; any definition does, descriptions included.
The wire carries its first 32 bits (:data:`DICTIONARY_ID`, 8 hex digits as shown).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from functools import cache
from importlib import resources

__all__ = ["FILES", "canonical", "dictionary_hash", "dictionary_id", "id_text"]

#: The dictionary's files in schemas/, in the order they are hashed.
FILES = ("telemetry.toml", "commands.toml")


def canonical() -> bytes:
    """The dictionary as canonical JSON: the parsed documents, keys sorted, no spaces."""
    documents = {
        name: tomllib.loads(resources.files("schemas").joinpath(name).read_text("utf-8"))
        for name in FILES
    }
    return json.dumps(documents, sort_keys=True, separators=(",", ":")).encode()


@cache
def dictionary_hash() -> str:
    """SHA-256 of the canonical dictionary, in hex."""
    return hashlib.sha256(canonical()).hexdigest()


def dictionary_id() -> int:
    """The first 32 bits of :func:`dictionary_hash`: what IDENT.dictionary carries."""
    return int(dictionary_hash()[:8], 16)


def id_text(value: int) -> str:
    """A 32-bit identity (dictionary, firmware build) as it is shown: 8 hex digits."""
    return f"{value:08x}"
