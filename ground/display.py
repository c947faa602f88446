"""How a decoded value looks on an operator's screen or in a text log."""

from __future__ import annotations

from typing import Any

__all__ = ["format_value"]


def format_value(value: Any, float_format: str = ".3f") -> str:
    """A value as text: floats with ``float_format`` (large ones in ``.4g``), a bit field's
    flags joined by ``|`` (``-`` when none is set), anything else as ``str``."""
    if isinstance(value, float):
        return format(value, float_format) if abs(value) < 1e6 else f"{value:.4g}"
    if isinstance(value, tuple):
        return "|".join(map(str, value)) or "-"
    return str(value)
