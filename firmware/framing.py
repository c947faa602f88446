# Link framing of the wire contract: CRC-16/CCITT-FALSE and COBS with a 0x00 delimiter.
# Both work on preallocated buffers with explicit lengths so the telemetry path allocates
# nothing (slicing a bytearray or memoryview would).
from array import array

from micropython import const

_POLY = const(0x1021)


def _make_table():
    t = array("H", bytes(512))
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ _POLY) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_TABLE = _make_table()


def crc16(buf, n, crc=0xFFFF):
    # CRC of buf[0:n]; 0x29B1 for b"123456789", 0 over a packet ending in its own CRC.
    t = _TABLE
    for i in range(n):
        crc = ((crc << 8) & 0xFF00) ^ t[(crc >> 8) ^ buf[i]]
    return crc


def cobs_encode(src, n, dst):
    # COBS-encode src[0:n] into dst, append the 0x00 delimiter, return the frame length.
    # dst needs n + n // 254 + 2 bytes.
    code_i = 0
    out = 1
    code = 1
    for i in range(n):
        if code == 0xFF:
            dst[code_i] = 0xFF
            code_i = out
            out += 1
            code = 1
        b = src[i]
        if b:
            dst[out] = b
            out += 1
            code += 1
        else:
            dst[code_i] = code
            code_i = out
            out += 1
            code = 1
    dst[code_i] = code
    dst[out] = 0
    return out + 1


def cobs_decode(src, n, dst):
    # Decode one COBS frame src[0:n] (delimiter excluded) into dst; -1 if malformed.
    i = 0
    out = 0
    while i < n:
        code = src[i]
        if code == 0:
            return -1
        i += 1
        end = i + code - 1
        if end > n:
            return -1
        while i < end:
            b = src[i]
            if b == 0:
                return -1
            dst[out] = b
            out += 1
            i += 1
        if code != 0xFF and i < n:
            dst[out] = 0
            out += 1
    return out
