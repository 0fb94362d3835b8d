"""Keep ABI: every number that crosses the kernel / task / host boundary.

One source of truth. The host decoder reads this file (under CPython, with
a `const` shim); firmware modules carry private `_X = const(N)  # abi.X`
copies of the numbers they use, folded at compile time, so the board never
spends RAM on this module's dictionary and names. Host tests check that
every copy, docs/trace-format.md and the decoder agree with it.

Invariants:
- Values never change meaning once released; new ones are appended.
- Error codes are negative, so a server's own non-negative reply codes can
  never be mistaken for a kernel error.
- A task id is `gen << 8 | slot`: the low byte names the task slot, the rest
  is the generation, bumped on every restart so stale ids are detectable.
"""

try:
    from micropython import const
except ImportError:  # CPython (host tools): const is the identity

    def const(x):
        return x


ABI_VERSION = const(1)

# ---- task ids ---------------------------------------------------------------
SLOT_BITS = const(8)
SLOT_MASK = const(0xFF)
GEN_MAX = const(0x3FFFFF)  # keeps ids small ints (no allocation) on 32-bit ports

# Names for these numbers live in abinames.py: the device loads them only
# to format a fault, the host always (keep_host.abi merges both files).

# ---- task states: named after what the task waits for -------------------------
ST_RUNNABLE = const(0)  # ready to run (or running)
ST_IN_SEND = const(1)  # queued at a server, waiting for it to receive (peer = server)
ST_IN_REPLY = const(2)  # server has the message, waiting for its reply (peer = server)
ST_IN_RECV = const(3)  # waiting for a message or a notification in its mask
ST_IN_WAIT = const(4)  # waiting for notification bits in its mask
ST_SLEEPING = const(5)  # waiting for a deadline
ST_FAULTED = const(6)  # stopped by a fault; the fault record keeps the prior state
ST_HELD = const(7)  # stopped on purpose (supervisor hold / flap detection)
ST_DONE = const(8)  # the task's coroutine returned
ST_EMPTY = const(9)  # slot not in use

# ---- kernel return codes --------------------------------------------------------
OK = const(0)
E_DEAD = const(-1)  # peer is dead or restarted since the id was taken (stale generation)
E_DEADLOCK = const(-2)  # the send would close a cycle of waiting tasks
E_TIMEOUT = const(-3)  # the timeout passed first
E_TOOBIG = const(-4)  # message or reply larger than the configured limit
E_DENIED = const(-5)  # no capability to send to that task
E_NOTSUP = const(-6)  # server: op not supported (by convention, servers reply with it)
E_BADARG = const(-7)  # server: request malformed (by convention)
E_MEM = const(-8)  # lease or region access out of bounds / not permitted
E_BUSY = const(-9)  # server: resource busy or owned by another client
E_IO = const(-10)  # server: the device did not answer
RC_MIN = const(-10)

# ---- fault kinds (fault record and trace) --------------------------------------
F_EXCEPTION = const(1)  # the task raised
F_BADARG = const(2)  # a syscall argument of the wrong type or range
F_BADREPLY = const(3)  # reply naming no call this task holds (not a call id, double reply)
F_NOTASK = const(4)  # syscall named a task id that never existed
F_MISUSE = const(5)  # syscall without await, awaited something foreign, or another task's handle
F_MEMORY = const(6)  # region / lease access violation
F_BUDGET_HEAP = const(7)  # allocated more than its per-slice heap budget
F_BUDGET_TIME = const(8)  # ran longer than its slice budget without yielding
F_INJECTED = const(9)  # fault injected by the supervisor / host
F_SELF = const(10)  # the task called fault() on itself
F_WATCHDOG = const(11)  # the board was reset by the watchdog while it ran

# ---- memory access kinds (memory fault detail) ----------------------------------
ACC_READ = const(1)
ACC_WRITE = const(2)

# ---- messages ---------------------------------------------------------------------
# Every message and reply starts with a 4-byte header the kernel writes:
#   u8 version | u8 op (reply: rc & 0xFF, a signed byte) | u16 body length, LE.
# A receiver reads the fields it knows and skips the rest of `length`, so an
# old server keeps working when a newer client appends fields.
MSG_VERSION = const(1)
MSG_HDR = const(4)
# Every call has an id, m.call, which reply() takes: ~(number << 8 | client
# slot), where number counts that slot's calls 1..CALL_MAX (wrapping, never
# reset by a restart). Negative, so a task id is never taken for one, and a
# small int on 32-bit ports.
CALL_MAX = const(0x3FFFFF)
MAX_OP = const(255)

# The longest timeout a blocking call accepts: ticks_diff() is exact for
# half of the 2**30 tick period, about 6.2 days in ms.
TIMEOUT_MAX_MS = const(0x1FFFFFFF)

# ---- notifications -----------------------------------------------------------------
# 32-bit words. Bits 0..29 stay small ints on 32-bit ports (no allocation);
# bits 30 and 31 work but cost a long int there. Tasks may post every bit
# but those in NOTE_KERNEL (a notify setting one is a badarg fault).
NOTE_FAULT = const(1 << 29)  # to the supervisor: some task faulted
NOTE_TIMER = const(1 << 28)  # conventional: a task's own periodic timer
NOTE_KERNEL = const(1 << 29)  # bits only the kernel posts: NOTE_FAULT

# ---- trace records ------------------------------------------------------------------
# The ring holds fixed 8-byte records, little endian:
#   u8 kind | u8 slot | u16 a | u32 b
# `slot` is the task the event belongs to (0xFF = kernel). The meaning of a
# and b per kind is below; the host decoder uses TR_FIELDS to name them.
TR_SIZE = const(8)
TR_SWITCH = const(1)  # a = t & 0xFFFF, b = t >> 16 | generation << 16; t = ticks_us at the slice start
TR_SEND = const(2)  # a = dest slot | op << 8, b = body length | TR_DELIVERED
# On a SEND, the server was waiting and took the message at once: no RECV
# record follows (the host decodes this one record as a send and a recv).
TR_DELIVERED = const(0x8000)
TR_RECV = const(3)  # a = sender slot | op << 8, b = body length (the wire keeps a only)
TR_REPLY = const(4)  # a = client slot | (rc & 0xFF) << 8, b = body length
TR_NOTIFY = const(5)  # a = dest slot, b = bits
TR_WAKE = const(6)  # a = 0, b = bits delivered (notification wake-up)
TR_TIMEOUT = const(7)  # a = state it waited in, b = 0
TR_DEADLOCK = const(8)  # a = dest slot, b = 0
TR_FAULT = const(9)  # a = fault kind | prior state << 8, b = detail (addr, size...)
TR_RESTART = const(10)  # a = new generation, b = restart count
TR_LOG = const(11)  # a = text length, b = 0; followed by ceil(len/7) TR_TEXT records
TR_TEXT = const(12)  # bytes 1..7 of the record are the next 7 bytes of text
TR_DROPPED = const(13)  # a = 0, b = records dropped since the last drain
TR_SYSCALL = const(14)  # a = syscall number, b = argument (sleep_ms, mask...)
TR_DENIED = const(15)  # a = dest slot, b = 0
TR_MEMFAULT = const(16)  # a = access kind | region << 8, b = offset << 16 | length
TR_HEAP = const(17)  # a = 0, b = bytes of heap in use (periodic)
TR_BUDGET = const(18)  # a = 1 heap / 2 time, b = measured figure
TR_STATE = const(19)  # a = state | priority << 8, b = generation (task table snapshot)
TR_BOOT = const(20)  # a = ABI version, b = reset cause | watchdog culprit slot << 8
TR_HOLD = const(21)  # a = 1 held / 0 released, b = 0
TR_PIN = const(22)  # a = pin, b = level | (ticks_ms mod 2**29) << 1 (gpio server)
PIN_TICKS_MASK = const(0x1FFFFFFF)  # TR_PIN's ticks_ms mod 2**29, a small int on 32-bit ports
TR_NAME = const(23)  # a = name length, b = 0; the task's name follows in TEXT records (as LOG)
TR_KIND_MAX = const(23)


KERNEL_SLOT = const(0xFF)

# ---- dispositions (app table -> supervisor) ------------------------------------------
# What the supervisor does when a task faults: the app table's disposition
# column (keep_host/manifest/model.py DISPOSITIONS names them).
DISP_RESTART = const(0)  # restart after a back-off
DISP_HOLD = const(1)  # leave it held
DISP_REBOOT = const(2)  # reset the board

# syscall numbers (TR_SYSCALL a): one per method of keep/task.py's Handle,
# listed in its table (tests/host/test_syscall_surface.py). lookup, region
# and the sv_* calls are immediate (no await); sv_* are the supervisor's.
SYS_SEND = const(1)
SYS_RECV = const(2)
SYS_REPLY = const(3)
SYS_NOTIFY = const(4)
SYS_WAIT = const(5)
SYS_SLEEP = const(6)
SYS_YIELD = const(7)
SYS_LOG = const(8)
SYS_FAULT = const(9)
SYS_LOOKUP = const(10)
SYS_REGION = const(11)
SYS_SV_RESTART = const(12)
SYS_SV_HOLD = const(13)
SYS_SV_RELEASE = const(14)
SYS_SV_INJECT = const(15)
SYS_SV_STATUS = const(16)
SYS_SV_TASK = const(17)  # the supervisor reads a task's state (keep/task.py TaskState)

# On the wire each record keeps only its first TR_WIRE_LEN[kind] bytes
# (kind, slot, then a and b little endian, truncated): most events need 6.
# SWITCH keeps its full 32-bit time and drops the generation (RESTART and
# STATE records carry generations); RECV drops the length, which its SEND
# already carried. That keeps a round trip near 6 bytes per event.
TR_WIRE_LEN = b"\x08\x06\x06\x04\x06\x08\x08\x04\x04\x08\x06\x04\x08\x08\x08\x04\x08\x08\x08\x08\x08\x04\x08\x04"

# ---- console frames (trace on the wire) -------------------------------------------------
# A frame is FRAME_START followed by the encoded body. The body is
#   u8 version | u16 seq | u16 records length | records... | u16 CRC-16/CCITT-FALSE
# (CRC over everything before it). Encoding: the body, zero-padded to a
# multiple of 3 bytes, is cut into 24-bit little-endian groups; each group
# becomes 4 bytes of 6 bits (low bits first), each OR 0x80. All encoded
# bytes are 0x80..0xBF, UTF-8 continuation bytes, which can never begin a
# character: no part of a frame can be mistaken for console text, a frame
# ends at the first byte outside that range, and the monitor resyncs at
# the next FRAME_START.
FRAME_START = const(0x1E)  # ASCII record separator; never printed by the kernel
FRAME_VERSION = const(1)
FRAME_MAX_RECORDS = const(32)

# ---- console command channel (runtime/console.py, keep_host/console.py) ---------------------
# A request is one line the host writes to the board's stdin, a reply one line
# the board prints; both start with CONSOLE_START, a byte the kernel never
# prints and no terminal binds (Ctrl-C, 0x03, stays the interrupt char):
#   request  0x1F '?' SEQ ' ' COMMAND [' ' ARG]... '*' CRC '\n'
#   reply    0x1F '=' SEQ ' ' JSON '*' CRC '\n'
# SEQ is 4 hex digits, CRC 4 hex digits of CRC-16/CCITT-FALSE over the bytes
# from '?' / '=' up to (not including) '*'. docs/tools.md has the commands.
CONSOLE_START = const(0x1F)  # ASCII unit separator
CONSOLE_REQ = const(0x3F)  # '?'
CONSOLE_REP = const(0x3D)  # '='
CONSOLE_BADGE = const(0xFFFF)  # badge the console's host proxy stamps on its calls
CONSOLE_LINE_MAX = const(200)  # longest request line, bytes
