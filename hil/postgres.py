"""A throwaway PostgreSQL server on loopback, for the tests and benchmarks that archive
into PostgreSQL: Debian's server binaries, a cluster in a temporary folder, trust auth for
one user, a free port, stopped and removed on exit."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PostgresUnavailable", "available", "local_postgres"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (Debian's ``postgresql`` package provides them)."""


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


def available() -> bool:
    return _bindir() is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def _as_server_user(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_postgres(timeout: float = 60.0) -> Iterator[str]:
    """Start a server; yield its ``postgresql://`` URL; stop it and remove its files."""
    bindir = _bindir()
    if bindir is None:
        raise PostgresUnavailable("no PostgreSQL server: apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="lander-pg-"))
    folder.chmod(0o777)
    cluster = folder / "cluster"
    server = None
    try:
        subprocess.run(
            _as_server_user(
                [str(bindir / "initdb"), "-D", str(cluster), "-A", "trust", "-U", "lander"]
            ),
            check=True,
            capture_output=True,
        )
        port = _free_port()
        server = subprocess.Popen(
            _as_server_user(
                [str(bindir / "postgres"), "-D", str(cluster), "-h", "127.0.0.1",
                 "-p", str(port), "-k", str(folder), "-c", "fsync=off"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"postgresql://lander@127.0.0.1:{port}/postgres"
        _wait_until_up(url, server, timeout)
        yield url
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    import psycopg

    end = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if server.poll() is not None:
                raise PostgresUnavailable(
                    f"postgres exited with status {server.returncode}"
                ) from None
            if time.monotonic() > end:
                raise PostgresUnavailable(f"postgres did not answer within {timeout:g} s") from None
            time.sleep(0.1)
