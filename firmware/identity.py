# Identity of the telemetry (packet IDENT): which vehicle, which boot, which firmware build
# and which dictionary produced it. Sent first at boot, then at its rate (every 10 s), so a
# ground that joins late, and every packet archived, can be traced to all four.
#   vehicle     config.json "vehicle" (set by `lander flash --vehicle`), 16 ASCII characters
#   boot        a counter in the flash file boot.count, written before anything is sent
#   firmware    first 32 bits of SHA-256 over the name and content of every module on the
#               flash, in name order (ground/identity.py computes the same for a build)
#   dictionary  packets.DICTIONARY_ID, generated with the encoder from schemas/
#   key_id      the telecommand key id the vehicle accepts
import os
from hashlib import sha256
from struct import pack, unpack

import packets as P

BOOT_FILE = "boot.count"
_CHUNK = 512


def next_boot(path=BOOT_FILE):
    # Count this boot in flash and return the count (1 on a fresh flash). A flash that
    # cannot be written still gets its count sent; the next boot repeats it.
    n = 0
    try:
        with open(path, "rb") as f:
            data = f.read(4)
        if len(data) == 4:
            n = unpack(">I", data)[0]
    except OSError:
        pass
    n = (n + 1) & 0xFFFFFFFF
    tmp = path + ".new"
    try:
        with open(tmp, "wb") as f:
            f.write(pack(">I", n))
        os.rename(tmp, path)    # atomic: a reset mid-write leaves the old count
    except OSError:
        pass
    return n


def _module(name):
    return name.endswith(".py") or name.endswith(".mpy")


def build_id(folder="."):
    # First 32 bits of SHA-256 over (name, NUL, content) of each module, names sorted.
    h = sha256()
    buf = bytearray(_CHUNK)
    names = sorted(n for n in os.listdir(folder) if _module(n))
    for name in names:
        h.update(name.encode())
        h.update(b"\x00")
        with open(folder + "/" + name, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                h.update(buf if n == _CHUNK else buf[:n])
    return unpack(">I", h.digest()[:4])[0]


def fill(points, cfg, boot):
    # Set the IDENT points once at boot: nothing of it changes until the next one.
    name = str(cfg.get("vehicle", ""))
    points.vehicle = name.encode()[:16]
    points.boot = boot
    points.firmware = build_id()
    points.dictionary = P.DICTIONARY_ID
    points.key_id = cfg.get("key_id", 1) & 0xFFFF
