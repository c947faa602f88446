"""`python -m sil`: run a virtual Pico until Ctrl-C, printing its serial port's path.

Why: to try the virtual board by hand (`mpremote connect <port> repl`, a terminal, the ground
console) without writing code. The flash folder defaults to a temporary one.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
from types import FrameType

from .board import BoardError, VirtualBoard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sil", description=__doc__)
    parser.add_argument("--flash", metavar="DIR", help="flash folder (default: a temporary one)")
    parser.add_argument(
        "--heap", help="MicroPython heap size (default: the dictionary's, a Pico's 192K)"
    )
    parser.add_argument("--micropython", metavar="PATH", help="the MicroPython executable")
    parser.add_argument("--no-autorun", action="store_true", help="do not run main.py at boot")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * args.verbose, format="%(name)s %(levelname)s %(message)s"
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with tempfile.TemporaryDirectory(prefix="sil-flash-") as scratch:
        try:
            board = VirtualBoard(
                args.flash or scratch,
                heap=args.heap,
                micropython=args.micropython,
                autorun=not args.no_autorun,
            )
            board.start()
        except BoardError as e:
            print(f"python -m sil: {e}", file=sys.stderr)
            return 1
        try:
            print(board.port, flush=True)
            print(f"flash: {board.flash_dir}; Ctrl-C to stop", file=sys.stderr)
            while not done.wait(0.5):
                pass
        finally:
            board.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
