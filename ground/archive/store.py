"""The archive's store: sessions, raw packets and commands in one database.

One class serves SQLite (a file, WAL, the default) and PostgreSQL (``postgresql://``): the
SQL is written once with ``?`` placeholders and the few words that differ between the two
are filled in from :class:`_Dialect`.

A *session* is one boot of one vehicle seen through one link: vehicle time restarts with
each boot, so a query by vehicle time is asked within a session, and by ground time across
them. Every packet row keeps the packet's bytes (header to CRC), so a dictionary fixed
later decodes the same evidence again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from schemas import model

from ..errors import UsageError
from ..limits import limit_state
from .columns import ColumnDecoder, engineering

__all__ = [
    "Archive",
    "ArchiveError",
    "CommandRecord",
    "PacketRow",
    "ParameterRow",
    "Session",
    "default_location",
    "open_archive",
]


class ArchiveError(UsageError):
    """The archive cannot be opened, read or written; one line that says what to do."""


def default_location() -> str:
    """``$LANDER_ARCHIVE``, else ``~/.local/share/lander/archive.sqlite``."""
    if os.environ.get("LANDER_ARCHIVE"):
        return os.environ["LANDER_ARCHIVE"]
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "lander" / "archive.sqlite")


@dataclass(frozen=True, slots=True)
class PacketRow:
    """One stored packet: where and when it was received, and its bytes."""

    session: int
    ground_time: float
    vehicle_time: float
    apid: int
    seq: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ParameterRow:
    """One sample of a parameter: both clocks, the engineering value and its limit state."""

    vehicle_time: float
    ground_time: float
    value: Any  # a number in the field's unit, a state's name, or the names of bits set
    state: str


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    vehicle: str
    boot: int | None
    link: str
    dictionary: str
    started: float
    ended: float | None
    packets: int
    first_vehicle_time: float | None
    last_vehicle_time: float | None
    stats: dict[str, int]


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command as the ground sent it, with every verification stage it reached."""

    id: str
    session: int | None
    vehicle: str
    requester: str
    name: str
    args: dict[str, Any]
    counter: int | None
    sent: float
    stages: tuple[tuple[str, str, float], ...]  # (stage, reason, ground time)


class _Dialect:
    name = "sqlite"
    serial = "INTEGER PRIMARY KEY"
    blob = "BLOB"
    real = "REAL"
    placeholder = "?"

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


class _Postgres(_Dialect):
    name = "postgresql"
    serial = "BIGSERIAL PRIMARY KEY"
    blob = "BYTEA"
    real = "DOUBLE PRECISION"
    placeholder = "%s"


def _schema(d: _Dialect) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS sessions (
            id {d.serial}, vehicle TEXT NOT NULL, boot INTEGER, link TEXT NOT NULL,
            dictionary TEXT NOT NULL, started {d.real} NOT NULL, ended {d.real},
            stats TEXT NOT NULL DEFAULT '{{}}')""",
        f"""CREATE TABLE IF NOT EXISTS packets (
            session INTEGER NOT NULL, ground_time {d.real} NOT NULL,
            vehicle_time {d.real} NOT NULL, apid INTEGER NOT NULL, seq INTEGER NOT NULL,
            data {d.blob} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS packets_by_apid ON packets (apid, session, vehicle_time)",
        "CREATE INDEX IF NOT EXISTS packets_by_ground ON packets (ground_time)",
        f"""CREATE TABLE IF NOT EXISTS commands (
            id TEXT PRIMARY KEY, session INTEGER, vehicle TEXT NOT NULL,
            requester TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
            counter INTEGER, sent {d.real} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS command_stages (
            command TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL,
            ground_time {d.real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS stages_by_command ON command_stages (command)",
    ]


class _Connection(Protocol):
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


class Archive:
    """Sessions, packets and commands; queries return engineering values and limit states.

    >>> archive = open_archive(":memory:")
    >>> archive.sessions()
    []
    """

    def __init__(
        self,
        connection: _Connection,
        dialect: _Dialect,
        location: str,
        dictionary: model.Dictionary | None = None,
    ) -> None:
        self._db = connection
        self._d = dialect
        self.location = location
        self.dictionary = dictionary if dictionary is not None else model.load()
        self.columns = ColumnDecoder(self.dictionary)
        cur = self._db.cursor()
        for statement in _schema(dialect):
            cur.execute(statement)
        self._db.commit()

    # --- writing ---------------------------------------------------------------------

    def begin_session(
        self, vehicle: str, link: str, dictionary: str, boot: int | None = None, at: float = 0.0
    ) -> int:
        """Start a session (one boot of one vehicle on one link); returns its id."""
        cur = self._db.cursor()
        sql = "INSERT INTO sessions (vehicle, boot, link, dictionary, started) VALUES (?,?,?,?,?)"
        values = (vehicle, boot, link, dictionary, at or time.time())
        if self._d.name == "postgresql":
            cur.execute(self._d.sql(sql + " RETURNING id"), values)
            session = int(cur.fetchone()[0])
        else:
            cur.execute(sql, values)
            session = int(cur.lastrowid)
        self._db.commit()
        return session

    def relabel_session(
        self, session: int, vehicle: str, boot: int | None, dictionary: str
    ) -> None:
        """Say which vehicle, boot and dictionary a session (still empty) belongs to."""
        cur = self._db.cursor()
        cur.execute(
            self._d.sql("UPDATE sessions SET vehicle = ?, boot = ?, dictionary = ? WHERE id = ?"),
            (vehicle, boot, dictionary, session),
        )
        self._db.commit()

    def end_session(self, session: int, stats: dict[str, int], at: float = 0.0) -> None:
        self.update_session(session, stats, ended=at or time.time())

    def update_session(
        self, session: int, stats: dict[str, int], ended: float | None = None
    ) -> None:
        cur = self._db.cursor()
        cur.execute(
            self._d.sql("UPDATE sessions SET stats = ?, ended = ? WHERE id = ?"),
            (json.dumps(stats), ended, session),
        )
        self._db.commit()

    def add_packets(self, rows: Sequence[tuple[int, float, float, int, int, bytes]]) -> None:
        """Store packets in one transaction: ``(session, ground_time, vehicle_time, apid,
        seq, data)`` each. Either all rows of a batch are kept, or none."""
        cur = self._db.cursor()
        cur.executemany(
            self._d.sql(
                "INSERT INTO packets (session, ground_time, vehicle_time, apid, seq, data) "
                "VALUES (?,?,?,?,?,?)"
            ),
            rows,
        )
        self._db.commit()

    def record_command(
        self,
        command_id: str,
        vehicle: str,
        requester: str,
        name: str,
        args: dict[str, Any],
        counter: int | None,
        sent: float,
        session: int | None = None,
    ) -> None:
        cur = self._db.cursor()
        cur.execute(
            self._d.sql(
                "INSERT INTO commands (id, session, vehicle, requester, name, args, counter, sent)"
                " VALUES (?,?,?,?,?,?,?,?)"
            ),
            (command_id, session, vehicle, requester, name, json.dumps(args), counter, sent),
        )
        self._db.commit()

    def record_stage(self, command_id: str, stage: str, reason: str, at: float) -> None:
        cur = self._db.cursor()
        cur.execute(
            self._d.sql(
                "INSERT INTO command_stages (command, stage, reason, ground_time) VALUES (?,?,?,?)"
            ),
            (command_id, stage, reason, at),
        )
        self._db.commit()

    # --- reading ---------------------------------------------------------------------

    def sessions(self, vehicle: str | None = None) -> list[Session]:
        """Every session with its span and statistics, oldest first."""
        where, params = ("WHERE s.vehicle = ?", [vehicle]) if vehicle else ("", [])
        cur = self._db.cursor()
        cur.execute(
            self._d.sql(
                "SELECT s.id, s.vehicle, s.boot, s.link, s.dictionary, s.started, s.ended, "
                "s.stats, COUNT(p.session), MIN(p.vehicle_time), MAX(p.vehicle_time) "
                "FROM sessions s LEFT JOIN packets p ON p.session = s.id "
                f"{where} GROUP BY s.id, s.vehicle, s.boot, s.link, s.dictionary, s.started, "
                "s.ended, s.stats ORDER BY s.id"
            ),
            params,
        )
        return [
            Session(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[8]), r[9], r[10], json.loads(r[7])
            )
            for r in cur.fetchall()
        ]

    def session(self, session: int | str) -> Session:
        """One session by id; ``"last"`` is the newest."""
        sessions = self.sessions()
        if not sessions:
            raise ArchiveError(f"{self.location} holds no session yet")
        if session == "last":
            return sessions[-1]
        try:
            wanted = int(session)
        except ValueError:
            raise ArchiveError(f"session {session!r} is not a number or 'last'") from None
        for s in sessions:
            if s.id == wanted:
                return s
        raise ArchiveError(f"no session {wanted} in {self.location} (`lander archive list`)")

    def _select(
        self,
        columns: str,
        *,
        session: int | None,
        apid: int | None,
        vehicle: str | None,
        start: float | None,
        stop: float | None,
        by: str,
    ) -> Any:
        """A cursor over ``columns`` of the packets that match, in receive order."""
        if by not in ("ground", "vehicle"):
            raise ArchiveError(f"by={by!r}: say 'ground' or 'vehicle'")
        clock = "p.ground_time" if by == "ground" else "p.vehicle_time"
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("p.session = ?", session),
            ("p.apid = ?", apid),
            ("s.vehicle = ?", vehicle),
            (f"{clock} >= ?", start),
            (f"{clock} <= ?", stop),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = (
            f"SELECT {columns} FROM packets p JOIN sessions s ON s.id = p.session"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY p.session, p.ground_time"
        )
        cur = self._db.cursor()
        cur.execute(self._d.sql(sql), params)
        return cur

    def packets(
        self,
        *,
        session: int | None = None,
        apid: int | None = None,
        vehicle: str | None = None,
        start: float | None = None,
        stop: float | None = None,
        by: str = "ground",
        batch: int = 10_000,
    ) -> Iterator[PacketRow]:
        """Stored packets in receive order, filtered; ``by`` says which clock
        ``start``/``stop`` are on (``"ground"`` UTC seconds, or ``"vehicle"``)."""
        cur = self._select(
            "p.session, p.ground_time, p.vehicle_time, p.apid, p.seq, p.data",
            session=session, apid=apid, vehicle=vehicle, start=start, stop=stop, by=by,
        )  # fmt: skip
        while rows := cur.fetchmany(batch):
            for r in rows:
                yield PacketRow(r[0], r[1], r[2], r[3], r[4], bytes(r[5]))

    def parameter(
        self,
        name: str,
        start: float | None = None,
        stop: float | None = None,
        *,
        session: int | None = None,
        vehicle: str | None = None,
        by: str = "ground",
    ) -> list[ParameterRow]:
        """``archive.parameter("NAV.altitude", start, stop)``: every sample in the range,
        in engineering units with its limit state."""
        packet, field = self.field(name)
        cur = self._select(
            "p.vehicle_time, p.ground_time, p.data",
            session=session, apid=packet.apid, vehicle=vehicle, start=start, stop=stop, by=by,
        )  # fmt: skip
        rows = cur.fetchall()
        if not rows:
            return []
        vehicle_times, ground_times, datas = zip(*rows, strict=True)
        raw = self.columns.decode(packet, [bytes(d) for d in datas])[field.name]
        values = engineering(field, raw)
        states = [limit_state(field, v) for v in values] if field.limits else [""] * len(values)
        return list(map(ParameterRow, vehicle_times, ground_times, values, states))

    def field(self, name: str) -> tuple[model.PacketDef, model.Field]:
        packet_name, dot, field_name = name.partition(".")
        if not dot:
            raise ArchiveError(f"{name!r}: name a parameter as PACKET.field, e.g. NAV.altitude")
        try:
            packet = self.dictionary[packet_name.upper()]
            return packet, packet.field(field_name)
        except KeyError as exc:
            raise ArchiveError(str(exc.args[0])) from None

    def commands(self, vehicle: str | None = None) -> list[CommandRecord]:
        cur = self._db.cursor()
        where, params = ("WHERE vehicle = ?", [vehicle]) if vehicle else ("", [])
        cur.execute(
            self._d.sql(
                "SELECT id, session, vehicle, requester, name, args, counter, sent FROM commands "
                f"{where} ORDER BY sent"
            ),
            params,
        )
        commands = cur.fetchall()
        cur.execute(
            "SELECT command, stage, reason, ground_time FROM command_stages ORDER BY ground_time"
        )
        stages: dict[str, list[tuple[str, str, float]]] = {}
        for command, stage, reason, at in cur.fetchall():
            stages.setdefault(command, []).append((stage, reason, at))
        return [
            CommandRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                json.loads(r[5]),
                r[6],
                r[7],
                tuple(stages.get(r[0], ())),
            )
            for r in commands
        ]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(
    location: str | None = None, dictionary: model.Dictionary | None = None
) -> Archive:
    """An archive by location: a file path (SQLite), ``sqlite:///path``, ``:memory:``, or
    ``postgresql://user@host:port/db``."""
    location = location or default_location()
    if location.lower() == "off":
        raise ArchiveError("archiving is off (LANDER_ARCHIVE=off): name an archive with --archive")
    if location.startswith(("postgresql://", "postgres://")):
        return _open_postgres(location, dictionary)
    path = location.removeprefix("sqlite://")
    if path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(
                f"cannot create the archive's folder for {path}: {exc.strerror}"
            ) from None
    try:
        db = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        # WAL: readers never block the writer, a killed writer loses only its open batch.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return Archive(db, _Dialect(), path, dictionary)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"cannot open the archive {path}: {exc}") from None


def _open_postgres(url: str, dictionary: model.Dictionary | None) -> Archive:
    try:
        import psycopg
    except ImportError:
        raise ArchiveError(
            "PostgreSQL archives need psycopg: pip install 'psycopg[binary]'"
        ) from None
    try:
        db = psycopg.connect(url)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArchiveError(f"cannot connect to {url}: {first}") from None
    return Archive(db, _Postgres(), url, dictionary)
