# Telecommand authentication on board: the vehicle key, HMAC-SHA256 made from hashlib.sha256
# (MicroPython has no hmac module), and the last accepted anti-replay counter kept in flash.
#
# Files on the board's flash:
#   tc.key         the vehicle key, raw octets (provisioned with the firmware, never sent)
#   tc_counter.0   the last accepted counter and the id of the key it belongs to: u32 + u16
#   tc_counter.1   big-endian + CRC-16 of those 6 octets, written to the two slots in turn
#                  (see CounterStore). A record of another key id counts as no record: a new
#                  key starts a new counter. (A 6-octet record, u32 + CRC, from before key
#                  ids were kept, belongs to the key the vehicle holds.)
from hashlib import sha256
from struct import pack_into, unpack_from

import commands as C
from framing import crc16
from micropython import const

KEY_FILE = "tc.key"
MAC_LEN = C.TC_MAC_LEN     # the tag's length is the dictionary's (schemas/wire.py)
_BLOCK = const(64)  # SHA-256 block size
_RECORD = const(8)
_OLD_RECORD = const(6)


def load_key(path=KEY_FILE):
    # The vehicle key, or None when none is provisioned (every command is then refused).
    try:
        with open(path, "rb") as f:
            key = f.read()
    except OSError:
        return None
    return key if len(key) >= 16 else None


class Hmac:
    # HMAC-SHA256 (RFC 2104) under one key: the two padded key blocks are made once, so a
    # tag costs two short SHA-256 runs and no key handling.
    def __init__(self, key):
        if len(key) > _BLOCK:
            key = sha256(key).digest()
        inner = bytearray(_BLOCK)
        outer = bytearray(_BLOCK)
        for i in range(_BLOCK):
            b = key[i] if i < len(key) else 0
            inner[i] = b ^ 0x36
            outer[i] = b ^ 0x5C
        self._inner = bytes(inner)
        self._outer = bytes(outer)

    def digest(self, buf, n):
        # HMAC-SHA256 of buf[0:n] (32 octets).
        h = sha256(self._inner)
        h.update(memoryview(buf)[:n])
        inner = h.digest()
        h = sha256(self._outer)
        h.update(inner)
        return h.digest()

    def check(self, buf, n):
        # True when buf[n:n+16] is the truncated tag of buf[0:n]; compares every octet so
        # the time taken does not tell how much of a forged tag was right.
        d = self.digest(buf, n)
        diff = 0
        for i in range(MAC_LEN):
            diff |= d[i] ^ buf[n + i]
        return diff == 0


class CounterStore:
    # The last accepted anti-replay counter, persisted so that a reset cannot reopen the
    # door to a replay. Two slot files, each a record with its own CRC, are written in turn:
    # a write only ever touches the slot that does not hold the current value, so a power
    # cut mid-write spoils at most that slot and the other still holds the value before it.
    # At boot the highest valid record of this key wins. The counter can neither be lost nor
    # roll back while the key stays; a new key (a new key id) starts from 0, since no command
    # signed with the old one can pass its tag.
    def __init__(self, prefix="tc_counter", key_id=1):
        self.paths = (prefix + ".0", prefix + ".1")
        self.key_id = key_id
        self._rec = bytearray(_RECORD)
        self.value = 0
        self.slot = 1  # slot holding value; the next commit writes the other
        best = -1
        for i in (0, 1):
            v = self._read(i)
            if v > best:
                best = v
                self.slot = i
        if best > 0:
            self.value = best

    def _read(self, i):
        rec = self._rec
        try:
            with open(self.paths[i], "rb") as f:
                n = f.readinto(rec)
        except OSError:
            return -1
        if n == _OLD_RECORD and not crc16(rec, _OLD_RECORD):
            return unpack_from(">I", rec, 0)[0]
        if n != _RECORD or crc16(rec, _RECORD):
            return -1
        if unpack_from(">H", rec, 4)[0] != self.key_id:
            return -1  # another key's counter
        return unpack_from(">I", rec, 0)[0]

    def commit(self, value):
        # Persist value (above the current one); OSError when the flash cannot take it, and
        # then nothing changed.
        rec = self._rec
        pack_into(">IH", rec, 0, value, self.key_id)
        c = crc16(rec, 6)
        rec[6] = c >> 8
        rec[7] = c & 0xFF
        i = 1 - self.slot
        with open(self.paths[i], "wb") as f:
            f.write(rec)
        self.slot = i
        self.value = value
