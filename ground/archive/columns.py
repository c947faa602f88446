"""Bulk decoding into columns: thousands of packets of one APID in one numpy call.

A packet of a given APID has a fixed size and layout, so a run of them laid end to end is
an array of one numpy structured type: joining their bytes and viewing them through that
type decodes every field of every packet at once. The archive's parameter queries and its
exports decode this way; the per-packet decoder (:mod:`ground.decoder`) stays the path for
live streams, and a test proves both give identical values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from schemas import model, wire

__all__ = ["ColumnDecoder", "dtype_of", "engineering"]

# struct format character -> numpy type, big-endian like the wire.
_NUMPY = {"B": "u1", "b": "i1", "H": ">u2", "h": ">i2", "I": ">u4", "i": ">i4"}
_NUMPY |= {"Q": ">u8", "q": ">i8", "f": ">f4", "d": ">f8"}


def dtype_of(packet: model.PacketDef) -> np.dtype:
    """The structured type of one whole packet: header words, CUC time, fields, CRC."""
    names = ["_word0", "_word1", "_length", "coarse", "fine"]
    formats = [">u2", ">u2", ">u2", ">u4", ">u2"]
    for f in packet.fields:
        names.append(f.name)
        formats.append(f"S{f.fmt[:-1]}" if f.fmt.endswith("s") else _NUMPY[f.fmt])
    names.append("_crc")
    formats.append(">u2")
    dtype = np.dtype({"names": names, "formats": formats})
    if dtype.itemsize != wire.TM_OVERHEAD + packet.data_size:
        raise ValueError(f"{packet.name}: numpy layout of {dtype.itemsize} B does not match")
    return dtype


class ColumnDecoder:
    """Decode lists of raw packets of one APID into a structured array (one row each)."""

    def __init__(self, dictionary: model.Dictionary) -> None:
        self._dtypes = {p.apid: dtype_of(p) for p in dictionary}

    def decode(self, packet: model.PacketDef, datas: Sequence[bytes]) -> np.ndarray:
        """Every packet of ``datas`` (all of ``packet``'s APID, CRC already checked)."""
        dtype = self._dtypes[packet.apid]
        array = np.frombuffer(b"".join(datas), dtype=dtype)
        if len(array) != len(datas):
            raise ValueError(f"{packet.name}: a stored packet has the wrong size")
        return array

    @staticmethod
    def vehicle_time(array: np.ndarray) -> np.ndarray:
        """CUC time of each row in seconds."""
        return array["coarse"].astype(np.float64) + array["fine"] / 65536.0


def engineering(field: model.Field, raw: np.ndarray) -> list[Any]:
    """A column of raw values in engineering units, as :meth:`model.Field.engineering`
    gives them one by one: a calibration is applied to the whole column at once."""
    if field.calibration and not (field.states or field.bits or field.is_text):
        value = np.zeros(len(raw))
        for coefficient in reversed(field.calibration):
            value = value * raw + coefficient
        return list(value.tolist())
    if field.states or field.bits or field.is_text:
        return [field.engineering(v) for v in raw.tolist()]
    return list(raw.tolist())
