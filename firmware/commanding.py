# Telecommands on board: check, authenticate and run each frame the uplink delivers, and
# answer every one with TC_VERIFY telemetry.
#
# A telecommand packet (big-endian; the ground's ground/telecommand.py builds it and
# schemas/structs.py holds its reference Construct struct; the offsets are generated from
# schemas/wire.py into commands.TC_*_AT):
#   offset  octets  field
#   0       2       version 0, type 1 (TC), sec. header 1, APID commands.TC_APID
#   2       2       sequence flags 0b11, 14-bit sequence count
#   4       2       data length: octets after the primary header - 1
#   6       2       key id
#   8       4       anti-replay counter, above the last one accepted
#   12      2       command code
#   14      n       arguments as commands.ARGS_FMT gives them
#   14+n    16      HMAC-SHA256(key, octets 0 .. 14+n-1), first 16 octets
#   30+n    2       CRC-16/CCITT-FALSE of octets 0 .. 30+n-1
#
# Checks, in order, each refusing with its own reason (counted in HK.tc_rej_*):
#   frame and packet length, COBS (BAD_LENGTH); CRC (BAD_CRC); header, data length
#   (BAD_LENGTH); key id (UNKNOWN_KEY); tag (BAD_MAC); counter (REPLAY). The counter is then
#   persisted, so an authenticated command can never run twice, not even after a reset, and a
#   refused one cannot be replayed later when it would be allowed. Then: command code
#   (UNKNOWN_COMMAND), argument length (BAD_ARGUMENTS), argument values (OUT_OF_RANGE),
#   vehicle mode (NOT_ALLOWED). A refused command changes nothing else on board.
# A command that passes is ACCEPTED, STARTED, then COMPLETED, or FAILED with the reason its
# handler returns (the flight model refuses what its phase does not allow: NOT_ALLOWED).
# Nothing a frame holds can stop the firmware: an unexpected error is a FAILED
# EXECUTION_ERROR.
from struct import unpack_from

import commands as C
import hal
import packets as P
from auth import CounterStore, Hmac, load_key
from framing import cobs_decode, crc16

_ARGS_AT = C.TC_ARGS_AT
_POWERED = (P.PHASE_BRAKING, P.PHASE_APPROACH, P.PHASE_TERMINAL)

# HK counter of each refusal reason.
_REFUSAL_COUNTERS = {
    P.REASON_BAD_CRC: "tc_rej_bad_crc",
    P.REASON_BAD_LENGTH: "tc_rej_bad_length",
    P.REASON_UNKNOWN_KEY: "tc_rej_unknown_key",
    P.REASON_BAD_MAC: "tc_rej_bad_mac",
    P.REASON_REPLAY: "tc_rej_replay",
    P.REASON_UNKNOWN_COMMAND: "tc_rej_unknown_command",
    P.REASON_BAD_ARGUMENTS: "tc_rej_bad_arguments",
    P.REASON_OUT_OF_RANGE: "tc_rej_out_of_range",
    P.REASON_NOT_ALLOWED: "tc_rej_not_allowed",
    P.REASON_EXECUTION_ERROR: "tc_rej_execution_error",
}


class Commanding:
    def __init__(self, app, cfg):
        self.app = app
        self.hk = app.points[P.HK]
        self.key_id = cfg.get("key_id", 1)
        key = load_key()
        self.hmac = Hmac(key) if key else None
        self.counters = CounterStore(key_id=self.key_id)
        self.hk.tc_counter = self.counters.value
        self.hk.tc_key_id = self.key_id if self.hmac else 0
        self.pkt = bytearray(C.MAX_TC)
        # What the current frame's TC_VERIFY reports: code, sequence count, counter.
        self.code = 0
        self.seq = 0
        self.counter = 0
        # Handler of each command, by table index: method do_<name>.
        self.handlers = tuple(getattr(self, "do_" + n.lower(), None) for n in C.NAMES)

    # --- the frame path --------------------------------------------------------------

    def on_frame(self, frame, n):
        # A complete frame from the uplink (delimiter excluded).
        self._handle(self._unframe, frame, n)

    def on_packet(self, packet, n):
        # A telecommand packet as the MQTT link delivers it (unframed): the same checks.
        self._handle(self._copy, packet, n)

    def _handle(self, take, data, n):
        self.code = self.seq = self.counter = 0
        try:
            m = take(data, n)
            reason = self._run(m) if m >= 0 else P.REASON_BAD_LENGTH
        except Exception:
            reason = P.REASON_EXECUTION_ERROR
        if reason:
            self.refuse(reason)

    def _unframe(self, frame, n):
        # COBS-decode into pkt; its length, or -1.
        if n < 2 or n > C.MAX_TC + 1:
            return -1
        return cobs_decode(frame, n, self.pkt)

    def _copy(self, packet, n):
        if n > C.MAX_TC:
            return -1
        pkt = self.pkt
        for i in range(n):
            pkt[i] = packet[i]
        return n

    def _run(self, m):
        pkt = self.pkt
        if m < 4:
            return P.REASON_BAD_LENGTH
        self.seq = ((pkt[2] << 8) | pkt[3]) & 0x3FFF
        if m >= _ARGS_AT:
            self.counter = unpack_from(">I", pkt, C.TC_COUNTER_AT)[0]
            self.code = (pkt[C.TC_CODE_AT] << 8) | pkt[C.TC_CODE_AT + 1]
        if m < C.MIN_TC:
            return P.REASON_BAD_LENGTH
        if crc16(pkt, m):
            return P.REASON_BAD_CRC
        if ((pkt[0] << 8) | pkt[1]) != C.TC_WORD0 or pkt[2] < 0xC0:
            return P.REASON_BAD_LENGTH  # not a telecommand header of ours
        if ((pkt[4] << 8) | pkt[5]) + 7 != m:
            return P.REASON_BAD_LENGTH
        key_at = C.TC_KEY_ID_AT
        if self.hmac is None or ((pkt[key_at] << 8) | pkt[key_at + 1]) != self.key_id:
            return P.REASON_UNKNOWN_KEY
        signed = m - C.TC_MAC_LEN - 2
        if not self.hmac.check(pkt, signed):
            return P.REASON_BAD_MAC
        if self.counter <= self.counters.value:
            return P.REASON_REPLAY
        try:
            self.counters.commit(self.counter)
        except OSError:
            return P.REASON_EXECUTION_ERROR
        self.hk.tc_counter = self.counter
        return self._dispatch(pkt, signed)

    def _dispatch(self, pkt, signed):
        code = self.code
        if code not in C.CODES:
            return P.REASON_UNKNOWN_COMMAND
        i = C.CODES.index(code)
        handler = self.handlers[i]
        if handler is None:
            return P.REASON_UNKNOWN_COMMAND
        if signed - _ARGS_AT != C.ARGS_LEN[i]:
            return P.REASON_BAD_ARGUMENTS
        args = unpack_from(C.ARGS_FMT[i], pkt, _ARGS_AT)
        for value, (low, high, allowed) in zip(args, C.CHECKS[i]):
            if not low <= value <= high or (allowed is not None and value not in allowed):
                return P.REASON_OUT_OF_RANGE
        hk = self.hk
        modes = C.MODES[i]
        if modes is not None and hk.mode not in modes:
            return P.REASON_NOT_ALLOWED
        hk.tc_accepted = (hk.tc_accepted + 1) & 0xFFFF
        self.stage(P.STAGE_ACCEPTED)
        self.stage(P.STAGE_STARTED)
        reason = handler(*args)
        if not reason:
            self.stage(P.STAGE_COMPLETED)
        return reason

    def stage(self, stage, reason=0):
        # Send one TC_VERIFY for the current command.
        v = self.app.points[P.TC_VERIFY]
        v.cmd_code = self.code
        v.tc_seq = self.seq
        v.counter = self.counter
        v.stage = stage
        v.reason = reason
        v.mode = self.hk.mode  # what a NOT_ALLOWED was refused in
        v.phase = self.app.flight.phase
        self.app.down.send(P.TC_VERIFY)

    def refuse(self, reason):
        hk = self.hk
        hk.tc_rejected = (hk.tc_rejected + 1) & 0xFFFF
        name = _REFUSAL_COUNTERS.get(reason)
        if name:
            setattr(hk, name, (getattr(hk, name) + 1) & 0xFFFF)
        self.stage(P.STAGE_FAILED, reason)

    # --- the commands: each returns 0 when done, or the reason it failed ---------------

    def do_noop(self):
        return 0

    def do_ping(self, token):
        self.app.points[P.PONG].token = token
        self.app.down.send(P.PONG)
        return 0

    def do_set_tm_rate(self, apid, hz):
        index = P.APIDS.index(apid)
        mhz = int(hz * 1000 + 0.5)
        if index == P.HK and mhz == 0:
            # HK never stops: a ground learns the vehicle's key id and counter from it.
            return P.REASON_OUT_OF_RANGE
        self.app.down.set_rate_mhz(index, mhz)
        self.app.event(P.EVENT_ID_TM_RATE_CHANGED, P.SEVERITY_INFO, apid, mhz)
        return 0

    def do_set_mode(self, mode):
        flight = self.app.flight
        if mode == P.MODE_SAFE:
            return flight.safe()
        if mode == P.MODE_MAINTENANCE and flight.phase in _POWERED:
            return P.REASON_NOT_ALLOWED
        old = self.hk.mode
        if mode != old:
            self.hk.mode = mode
            self.app.event(P.EVENT_ID_MODE_CHANGE, P.SEVERITY_INFO, old, mode)
        return 0

    def do_set_time(self, coarse):
        self.app.clock.set_epoch(coarse)
        return 0

    def do_set_time_warp(self, factor):
        return self.app.set_time_warp(factor)

    def do_arm(self):
        return self.app.flight.arm()

    def do_start_descent(self):
        return self.app.flight.start_descent()

    def do_abort(self):
        return self.app.flight.abort()

    def do_safe(self):
        return self.app.flight.safe()

    def do_reset(self):
        # The counter is already persisted; answer, then reset.
        self.stage(P.STAGE_COMPLETED)
        hal.reset()
        return 0

    def do_inject_fault(self, target, kind, magnitude):
        return self.app.flight.inject_fault(target, kind, magnitude)

    def do_clear_fault(self, target):
        return self.app.flight.clear_fault(target)
