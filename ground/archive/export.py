"""Exports of an archived session: a table per packet (CSV or Parquet) and PNG plots.

Tables hold one row per packet with both clocks, the sequence count and every field in
engineering units (states by name), decoded in bulk by :mod:`.columns`. Plots draw chosen
parameters over vehicle time with their yellow and red limits.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from schemas import model

from .columns import engineering
from .store import Archive, ArchiveError

__all__ = ["packet_table", "export_session", "plot_parameters"]


def packet_table(archive: Archive, session: int, packet: model.PacketDef) -> dict[str, list[Any]]:
    """Columns of one packet type in one session, in engineering units."""
    rows = list(archive.packets(session=session, apid=packet.apid))
    table: dict[str, list[Any]] = {
        "vehicle_time": [r.vehicle_time for r in rows],
        "ground_time": [r.ground_time for r in rows],
        "seq": [r.seq for r in rows],
    }
    if not rows:
        for f in packet.fields:
            table[f.name] = []
        return table
    array = archive.columns.decode(packet, [r.data for r in rows])
    for f in packet.fields:
        table[f.name] = [_plain(v) for v in engineering(f, array[f.name])]
    return table


def _plain(value: Any) -> Any:
    """Bit names as one text (``A|B``), so that CSV and Parquet columns hold one type."""
    return "|".join(value) if isinstance(value, tuple) else value


def export_session(archive: Archive, session: int, fmt: str, out: Path) -> list[Path]:
    """Write ``<PACKET>.csv`` or ``<PACKET>.parquet`` per packet type present; the files."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create {out}: {exc.strerror}") from None
    written = []
    for packet in archive.dictionary:
        table = packet_table(archive, session, packet)
        if not table["seq"]:
            continue
        path = out / f"{packet.name}.{fmt}"
        try:
            if fmt == "csv":
                with path.open("w", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(table)
                    writer.writerows(zip(*table.values(), strict=True))
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table(table), path)
        except OSError as exc:
            raise ArchiveError(f"cannot write {path}: {exc.strerror}") from None
        written.append(path)
    return written


def plot_parameters(archive: Archive, session: int, names: list[str], out: Path) -> Path:
    """One PNG with a panel per parameter over vehicle time, limit lines dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.6 * len(names)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=True):
        packet, field = archive.field(name)
        rows = archive.parameter(name, session=session)
        if field.states:
            raise ArchiveError(
                f"{name} is a state ({'|'.join(field.states.values())}): not plotted"
            )
        ax.plot([r.vehicle_time for r in rows], [r.value for r in rows], lw=1.2, color="C0")
        ax.set_ylabel(f"{name}" + (f" [{field.unit}]" if field.unit else ""))
        limits = field.limits
        if limits:
            for value, colour in (
                (limits.yellow_low, "gold"),
                (limits.yellow_high, "gold"),
                (limits.red_low, "red"),
                (limits.red_high, "red"),
            ):
                if value is not None:
                    ax.axhline(value, color=colour, ls="--", lw=0.9)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("vehicle time [s]")
    s = archive.session(session)
    fig.suptitle(f"{s.vehicle} boot {s.boot if s.boot is not None else '?'}, session {s.id}")
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=100)
    except OSError as exc:
        raise ArchiveError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return out
