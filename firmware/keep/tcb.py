"""Task control blocks: the kernel's per-task state, one array per field.

Structure-of-arrays instead of an object per task: a bytearray slot costs
one byte where an instance attribute costs a hash-map entry (16 bytes on a
64-bit port), and viper code can read the arrays directly. Every array is
allocated once, at import, for MAX_TASKS slots; reset() clears them so
tests can boot several kernels in one process.

Invariants (checked by the fuzzer's reference model):
- state[s] is one of abi.ST_*; peer[s] is meaningful only in IN_SEND and
  IN_REPLY, where it names the server the task waits on.
- A task is linked on exactly one sender queue (sq_head/sq_next of its
  peer) iff it is IN_SEND.
- prio[s] (effective) is never less important than base[s], and equals
  the most important of base[s] and the prio of every task IN_SEND or
  IN_REPLY with peer == s (priority inheritance).
- call[c] is number << 8 | c for client c's latest call, the number
  counting its calls 1..abi.CALL_MAX (wrapping; 0 = none yet). It is never
  reset by a restart, so the call id ~call[c] (what m.call holds) names one
  call of one instance.
- held[c] is the server that received c's latest call and has not answered
  it (NONE otherwise). It stays set when c stops waiting (timeout, fault,
  restart), so the server's late reply is recognised and dropped; it is
  cleared by the reply, by c's next call and when the server stops.
- A queued (IN_SEND) message lives in its sender's reply buffer (the second
  half of mbuf[s], the sender's Msg.buf, header included): copied at send,
  so the sender's own buffer may change while the call waits
  (docs/kernel.md).
"""

from array import array

from micropython import const

MAX_TASKS = const(16)
NONE = const(0xFF)  # "no slot" in the link arrays

cur = NONE  # the slot running now (NONE between slices)
ntasks = 0  # slots 0..ntasks-1 are in use
max_msg = 64  # message body limit, bytes (board / manifest config)
echo = False  # also print log lines and faults as text (kernel.boot's echo_text)
lease_class = None  # keep.mem's Lease, registered when that module loads

state = bytearray(MAX_TASKS)
peer = bytearray(MAX_TASKS)
base = bytearray(MAX_TASKS)  # priority from the manifest (0 = most important)
prio = bytearray(MAX_TASKS)  # effective priority, raised by inheritance
gen = array("I", bytes(4 * MAX_TASKS))  # generation, bumped on restart
nxt = bytearray(MAX_TASKS)  # ready-queue link
sq_head = bytearray(MAX_TASKS)  # per server: first queued sender
sq_next = bytearray(MAX_TASKS)  # sender-queue link
notes = array("I", bytes(4 * MAX_TASKS))  # pending notification bits
mask = array("I", bytes(4 * MAX_TASKS))  # bits a waiting task wakes on
held = bytearray(MAX_TASKS)  # per client: the server holding its latest call unanswered
call = [0] * MAX_TASKS  # per client: its latest call, number << 8 | slot (a list: faster than array("I"))
deadline = array("i", bytes(4 * MAX_TASKS))  # ticks_ms of a timeout
timed = bytearray(MAX_TASKS)  # 1 while deadline[s] is armed
restarts = array("H", bytes(2 * MAX_TASKS))
recvs = array("H", bytes(2 * MAX_TASKS))  # recv calls, mod 2**16 (the supervisor's heartbeat)
# Object references (lists of MAX_TASKS, never resized).
coro = [None] * MAX_TASKS  # the running coroutine
handle = [None] * MAX_TASKS  # the task's Handle (its kernel interface)
mbuf = [None] * MAX_TASKS  # its Msg.buf: received message, then reply (or queued message) half
slease = [None] * MAX_TASKS  # lease offered with a queued message
alease = [None] * MAX_TASKS  # per client: the lease its server holds until it replies
# Budgets: heap bytes one slice may allocate, longest slice in us (0 =
# unchecked). Arrays of MAX_TASKS made by kernel.spawn for the first task
# given a budget; None until then (most apps set none: 192 bytes saved).
bud_heap = None
bud_us = None
entry = [None] * MAX_TASKS  # the function that (re)starts the task
args = [None] * MAX_TASKS  # its arguments (a tuple, or a dict of keyword arguments)
# (two lists, not an (entry, args) tuple per task: 16 bytes a task less on a Pico)
name = [None] * MAX_TASKS


def reset():
    """Clear every slot (a fresh boot)."""
    global cur, ntasks, bud_heap, bud_us
    cur = NONE
    ntasks = 0
    bud_heap = bud_us = None
    _fill(state, 9)  # abi.ST_EMPTY
    for table in (peer, nxt, sq_head, sq_next, held):  # links: nothing linked
        _fill(table, NONE)
    for table in (base, prio, gen, notes, mask, timed, restarts, recvs):
        _fill(table, 0)
    for table in (coro, handle, mbuf, slease, alease, entry, args, name):
        _fill(table, None)
    for s in range(MAX_TASKS):
        call[s] = s  # call number 0: none yet


def _fill(table, value):
    for s in range(MAX_TASKS):
        table[s] = value


reset()


def lookup(task_name):
    """The current id of the task called task_name, or -1 (no allocation).
    A scan of at most MAX_TASKS names, not a name -> slot dict: a client
    looks its server up once per call, and the dict cost ~0.2 KB of heap."""
    for s in range(ntasks):
        if name[s] == task_name:
            return gen[s] << 8 | s
    return -1
