"""Deploy: put an image on a board so that at every moment it can boot some whole firmware.

1. take the board over (firmware stopped, a fresh raw REPL) and check it runs a MicroPython
   that reads this build's .mpy files;
2. survey its flash: the hash of every file of the image, its previous manifest;
3. stage each file that differs under a temporary name (`app.mpy.flashing`) and verify the
   staged copies by SHA-256 read back from the board. Until here the previous firmware is
   untouched: a pulled cable, a full filesystem or a bad copy leave it bootable;
4. switch: rename every staged file over its final name and remove what the plan removes,
   in one exec of a few milliseconds (the only moment a failure can leave files mixed, and
   the error then says so);
5. verify every file of the image by SHA-256 again, soft-reset, and decode the first
   telemetry packets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .board import INSTALL_HINT, Board, BoardInfo
from .build import Build, build_firmware, march_for
from .errors import BoardLost, FlashError, NoSpace
from .image import MANIFEST, Image
from .plan import STAGED, Plan, make_plan
from .progress import Progress, size_text
from .provision import CONFIG_FILE, Provision
from .verify import TELEMETRY_TIMEOUT, first_packets, mismatches

__all__ = ["FlashResult", "flash"]

INTACT = "the previous firmware is intact; run `lander flash` again"
MIXED = "the board may hold old and new files mixed and not boot; run `lander flash` again"
IN_PLACE = "the new firmware is in place"


@dataclass(frozen=True)
class FlashResult:
    plan: Plan
    telemetry: list[str]  # names of the first packets after the reset


def flash(
    port: str,
    sources: list[Path],
    provision: Provision,
    progress: Progress,
    *,
    build: Build,
    dry_run: bool = False,
) -> FlashResult:
    """Flash the board at ``port`` with ``build`` (rebuilt from ``sources`` if it must be)."""
    with Board(port) as board:
        board.take_over()
        provision = provision.keyed()  # a board answers: now its key may be made
        try:
            return _deploy(board, sources, provision, progress, build, dry_run)
        except BoardLost:
            raise
        except FlashError:
            if board.in_raw_repl:  # back to the firmware it has, rather than a stopped board
                with suppress(FlashError):
                    board.restart()
            raise


def _deploy(
    board: Board,
    sources: list[Path],
    provision: Provision,
    progress: Progress,
    build: Build,
    dry_run: bool,
) -> FlashResult:
    with _consequence(INTACT):  # nothing written yet
        info = board.probe()
    progress.say(f"board: {board.port}, {_describe(info)}")
    build = _for_board(board, info, build, sources)
    image = Image.of(build, provision)
    with _consequence(INTACT):
        survey = board.survey(image.names, MANIFEST)
    plan = make_plan(image, survey)
    for line in plan.lines(image, dry_run):
        progress.say(line)
    if dry_run:
        progress.say("dry run: nothing was written; the board runs its firmware again")
        board.restart()
        return FlashResult(plan, [])
    with _consequence(INTACT):
        if plan.stale:
            board.remove(plan.stale)
        _stage(board, image, plan, progress, info)
    with _consequence(MIXED):
        board.commit([(name + STAGED, name) for name in plan.copy], list(plan.remove))
        bad = mismatches(image.hashes(), board.hashes(image.names))
        if bad:
            raise FlashError(f"hash mismatch on the board after the switch: {_some(bad)}")
    progress.say(f"verified {len(image.files)} files by SHA-256 on the board")
    with _consequence(IN_PLACE):
        board.restart()
        telemetry = _confirm(board, provision)
    return FlashResult(plan, telemetry)


def _describe(info: BoardInfo) -> str:
    free = "" if info.fs_free is None else f", {size_text(info.fs_free)} free"
    return f"{info.version.split('; ')[-1]} ({info.platform}){free}"


def _for_board(board: Board, info: BoardInfo, build: Build, sources: list[Path]) -> Build:
    """The build this board can run: it must be MicroPython and read this .mpy version."""
    if info.implementation != "micropython":
        raise FlashError(
            f"the board at {board.port} runs {info.implementation}, not MicroPython: "
            + INSTALL_HINT
        )
    if build.mpy_version is not None and info.mpy_version != build.mpy_version:
        reads = "no .mpy files" if info.mpy is None else f".mpy v{info.mpy_version}"
        raise FlashError(
            f"the board's MicroPython reads {reads}, this mpy-cross writes v{build.mpy_version}: "
            f"update MicroPython on the board ({INSTALL_HINT.split(': ', 1)[1]})"
        )
    march = march_for(info.mpy, build)
    return build if march == build.march else build_firmware(sources, march)


def _stage(board: Board, image: Image, plan: Plan, progress: Progress, info: BoardInfo) -> None:
    """Copy each changed file under its staged name and check the copies' hashes."""
    total = sum(len(image.files[name]) for name in plan.copy)
    progress.start(total)
    done = 0
    staged: list[str] = []
    try:
        for name in plan.copy:
            data = image.files[name]
            progress.say(f"copy {name} ({size_text(len(data))})")
            staged.append(name + STAGED)
            board.write(name + STAGED, data, _advance(progress, done, name), label=name)
            done += len(data)
        progress.finish()
        hashes = image.hashes()
        want = {name + STAGED: hashes[name] for name in plan.copy}
        bad = mismatches(want, board.hashes(staged))
        if bad:
            raise FlashError(
                f"hash mismatch after copying {_some(n[: -len(STAGED)] for n in bad)}: "
                "the board stored other bytes than it was sent (is its flash failing?)"
            )
    except BoardLost:
        progress.finish()
        raise
    except NoSpace:
        progress.finish()
        with suppress(FlashError):
            board.remove(staged)
        free = "" if info.fs_free is None else f", {size_text(info.fs_free)} were free"
        raise FlashError(
            f"the board's filesystem is full: the changed files need {size_text(total)}{free}; "
            f"remove files the firmware does not need (`mpremote connect {board.port} ls`, `rm`)"
        ) from None
    except FlashError:
        progress.finish()
        with suppress(FlashError):
            board.remove(staged)
        raise
    if plan.copy:
        progress.say(f"copied {len(plan.copy)} files ({size_text(total)}), hashes match")


def _some(names: Iterable[str]) -> str:
    """A list of files short enough for one line."""
    names = list(names)
    return names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")


def _advance(progress: Progress, before: int, name: str) -> Callable[[int], None]:
    return lambda written: progress.advance(before + written, name)


def _confirm(board: Board, provision: Provision) -> list[str]:
    """The names of the first packets the new firmware sends, or a FlashError."""
    if "uart" in provision.settings:
        return []  # telemetry goes out on a UART, not on this port
    packets = first_packets(board.read, TELEMETRY_TIMEOUT, f"serial://{board.port}")
    if not packets:
        raise FlashError(
            f"no telemetry within {TELEMETRY_TIMEOUT:g} s of the reset: the firmware does not "
            f"run; see why with `mpremote connect {board.port} repl` (then Ctrl-D) "
            f"and check {CONFIG_FILE}"
        )
    return [p.name for p in packets]


@contextmanager
def _consequence(what: str) -> Iterator[None]:
    """Add to a failure what state it leaves the board in."""
    try:
        yield
    except BoardLost as exc:
        raise BoardLost(f"{exc}: {what}") from None
    except KeyboardInterrupt:
        raise FlashError(f"interrupted: {what}") from None
    except FlashError as exc:
        raise FlashError(f"{exc}; {what}") from None
