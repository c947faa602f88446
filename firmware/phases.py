# Flight phases as a table-driven state machine (h11's rule: all transition logic lives in
# the table; everything else only fires triggers). A trigger is a command (ARM,
# START_DESCENT, ABORT, SAFE) or a condition the flight software detected (the PDI time,
# a gate, touchdown, a fault-protection no-go). A (phase, trigger) pair missing from the
# table is not allowed: a command gets REASON_NOT_ALLOWED and nothing changes.
#
# Every transition emits EVENT PHASE_CHANGE (arg1 from, arg2 to, arg3 trigger); an ABORT
# (commanded or by fault protection) emits ABORT first, entering SAFE emits SAFE_ENTERED
# after. TOUCHDOWN is emitted by the flight model with the touchdown figures just before
# CONTACT or CRASH fires.
#
#   IDLE           --ARM--> ARMED --START_DESCENT--> DESCENT_ORBIT --PDI--> BRAKING
#   BRAKING        --HIGH_GATE--> APPROACH --LOW_GATE--> TERMINAL --CONTACT--> LANDED
#   BRAKING, APPROACH, TERMINAL --ABORT--> ABORT --ORBIT_REACHED--> SAFE
#                                                --HOVER_DONE--> TERMINAL
#   IDLE, ARMED, DESCENT_ORBIT, LANDED --SAFE--> SAFE;  ARMED, DESCENT_ORBIT --NO_GO--> SAFE
#   DESCENT_ORBIT --ABORT--> SAFE (the descent is called off before PDI)
#   SAFE --ARM--> ARMED (after the ground fixed the cause)
#   any powered phase --CRASH--> CRASHED (touchdown beyond the test limits)
import packets as P
from micropython import const

# Triggers are the dictionary's TRIGGER enumeration (P.TRIGGER_*: PHASE_CHANGE names them on
# the ground): NO_GO is fault protection's "not fit for powered descent", PDI perilune reached.

_N_TRIGGERS = const(256)    # a trigger is a u8 in PHASE_CHANGE

_POWERED = (P.PHASE_BRAKING, P.PHASE_APPROACH, P.PHASE_TERMINAL, P.PHASE_ABORT)

TABLE = (
    (P.PHASE_IDLE, P.TRIGGER_ARM, P.PHASE_ARMED),
    (P.PHASE_IDLE, P.TRIGGER_SAFE, P.PHASE_SAFE),
    (P.PHASE_ARMED, P.TRIGGER_START_DESCENT, P.PHASE_DESCENT_ORBIT),
    (P.PHASE_ARMED, P.TRIGGER_SAFE, P.PHASE_SAFE),
    (P.PHASE_ARMED, P.TRIGGER_NO_GO, P.PHASE_SAFE),
    (P.PHASE_DESCENT_ORBIT, P.TRIGGER_PDI, P.PHASE_BRAKING),
    (P.PHASE_DESCENT_ORBIT, P.TRIGGER_ABORT, P.PHASE_SAFE),
    (P.PHASE_DESCENT_ORBIT, P.TRIGGER_SAFE, P.PHASE_SAFE),
    (P.PHASE_DESCENT_ORBIT, P.TRIGGER_NO_GO, P.PHASE_SAFE),
    (P.PHASE_BRAKING, P.TRIGGER_HIGH_GATE, P.PHASE_APPROACH),
    (P.PHASE_APPROACH, P.TRIGGER_LOW_GATE, P.PHASE_TERMINAL),
    (P.PHASE_ABORT, P.TRIGGER_ORBIT_REACHED, P.PHASE_SAFE),
    (P.PHASE_ABORT, P.TRIGGER_HOVER_DONE, P.PHASE_TERMINAL),
    (P.PHASE_LANDED, P.TRIGGER_SAFE, P.PHASE_SAFE),
    (P.PHASE_SAFE, P.TRIGGER_ARM, P.PHASE_ARMED),
)

# Events of a trigger (before PHASE_CHANGE) and of entering a phase (after it).
TRIGGER_EVENTS = {P.TRIGGER_ABORT: (P.EVENT_ID_ABORT, P.SEVERITY_CRITICAL)}
ENTRY_EVENTS = {P.PHASE_SAFE: (P.EVENT_ID_SAFE_ENTERED, P.SEVERITY_WARNING)}


def _build():
    # (phase, trigger) -> next phase, as one dict keyed by phase * _N_TRIGGERS + trigger
    # (an int key: looking it up allocates nothing).
    t = {}
    for phase, trigger, nxt in TABLE:
        t[phase * _N_TRIGGERS + trigger] = nxt
    for phase in _POWERED:
        t[phase * _N_TRIGGERS + P.TRIGGER_CONTACT] = P.PHASE_LANDED
        t[phase * _N_TRIGGERS + P.TRIGGER_CRASH] = P.PHASE_CRASHED
        if phase != P.PHASE_ABORT:
            t[phase * _N_TRIGGERS + P.TRIGGER_ABORT] = P.PHASE_ABORT
    return t


_NEXT = _build()


def powered(phase):
    return phase in _POWERED


class Phases:
    def __init__(self, events, on_enter):
        self.events = events
        self.on_enter = on_enter    # on_enter(phase, trigger): the flight model's entry actions
        self.phase = P.PHASE_IDLE

    def allowed(self, trigger):
        return (self.phase * _N_TRIGGERS + trigger) in _NEXT

    def fire(self, trigger):
        # Returns 0 when the transition happened, else REASON_NOT_ALLOWED.
        nxt = _NEXT.get(self.phase * _N_TRIGGERS + trigger)
        if nxt is None:
            return P.REASON_NOT_ALLOWED
        prev = self.phase
        self.phase = nxt
        event = TRIGGER_EVENTS.get(trigger)
        if event is not None:
            self.events(event[0], event[1], prev, nxt, 0)
        self.events(P.EVENT_ID_PHASE_CHANGE, P.SEVERITY_INFO, prev, nxt, trigger)
        entry = ENTRY_EVENTS.get(nxt)
        if entry is not None:
            self.events(entry[0], entry[1], prev, trigger, 0)
        self.on_enter(nxt, trigger)
        return 0
