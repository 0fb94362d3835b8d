"""The world around the simulated board: what the host and tests do to it.

These calls change the board's surroundings (driven inputs, stuck pins,
wires, UART line modes and noise, bytes arriving on a line) or look at it
from outside (output history, TX kept for the host, NOR contents behind
the bus). Only the control channel (hal.sim.ctl) and tests use them, so
they live here and load on first use: a board nobody steers (the demo)
never pays for them (~100 bytes of heap per function on the unix port).

  attach_nor(bus, cs, size=65536, path=None, prog_us=700, erase_us=30000)
                           put a NOR flash (hal.sim.nor) on bus, chip select cs
  drive(pin, level|None)   the host drives an input (None releases it)
  stuck(pin, level|None)   fault: pin held at level whatever drives it
  wire(src, dst)           dst follows output src (src None unwires)
  history(pin=None)        [(pin, level, t_us)] retained output changes
  reset_pins()             forget every pin (a fresh board)
  set_noise / set_mode / inject / take_tx     UART lines (see below)
  find(bus, cs) / detach_all() / peek(dev, addr, n)   SPI devices
  fire()                   reset now as the watchdog would
  serve(ms=None)           poll in a loop (tests / a bare board script)

The numbers the host and tests read the board's state with are public
here and private constants in the modules that use them (on the board a
public module global costs a dict slot): the rows of pins.tab and words
of pins.wtab (pin p's level is pins.tab[LEVEL + p]), NUARTS, line modes
and noise kinds, the reset-cause file and the "reboot me" exit status.
tests/host/test_sim_consts.py checks that every copy agrees.

Invariants:
- State lives in the hal.sim modules' preallocated tables; nothing here
  keeps state of its own, so loading it late changes no behaviour.
"""

from micropython import const

from hal.sim import pins, spi, uart, wdt
from hal.sim.pins import update

NPINS = const(48)  # pins._NPINS
NONE = const(0xFF)  # pins._NONE: "not set" in the per-pin rows
HIST_LEN = const(64)  # pins._HIST_LEN: output changes the history ring keeps
# rows of pins.tab (pin p's level is pins.tab[LEVEL + p]) and words of pins.wtab
MODE = const(0)  # pins._MODE: hal.IN / hal.OUT
DRIVE = const(144)  # pins._DRIVE: host-driven level or NONE
STUCK = const(192)  # pins._STUCK: stuck-at level or NONE
WSRC = const(240)  # pins._WSRC: wired from, or NONE
FANOUT = const(288)  # pins._FANOUT
LEVEL = const(336)  # pins._LEVEL: what value() reads
CS = const(480)  # pins._CS: 1 + index into spi.devices, 0 = none
HIST = const(528)  # pins._HIST: pin << 1 | level of each retained output change
HIST_T = const(48)  # pins._HIST_T: its ticks_us (in wtab)
HIST_N = const(112)  # pins._HIST_N: output changes ever made (in wtab)
NUARTS = const(4)  # uart._NUARTS
_TXCAP = const(256)  # uart._TXCAP: bytes of TX kept for the host per HOST-mode line
LOOP = const(0)  # uart line modes (uart.lb[uid])
HOST = const(1)
BRIDGE = const(2)
FLIP = const(0)  # uart noise kinds (uart.lb[_KIND + uid])
INSERT = const(1)
_KIND = const(4)  # uart._KIND: lb, noise kind (mode at 0)
_TXLEN = const(4)  # uart._TXLEN: lw, TX bytes kept for the host (noise rate at 0)
_RNG = const(8)  # uart._RNG: lw, the noise generator's state
_SOCK = const(4)  # uart._SOCK: io, a BRIDGE line's socket (HOST TX buffer at 0)
_BBUF = const(8)  # uart._BBUF: io, the buffer bridged bytes are read into
EXIT_RESET = const(3)  # wdt._EXIT_RESET: the process exit status meaning "reboot me"
CAUSE_FILE = const(".keep_reset_cause")  # wdt._CAUSE_FILE: the reset cause, in the state dir
DEAD = const(1)  # spi device .fault: MISO stuck at 0xFF, commands ignored
NEVER_READY = const(2)  # spi device .fault: answers but stays busy forever
FAULT_NAMES = ("ok", "dead", "busy")  # spi device .fault, as the host names it


# ---- pins -------------------------------------------------------------------------
def drive(p, v):
    """Host drives input p to v (0/1), or releases it (None)."""
    pins.tab[DRIVE + p] = NONE if v is None else (1 if v else 0)
    update(p)


def stuck(p, v):
    """Fault: hold p at v whatever drives it; None clears the fault."""
    pins.tab[STUCK + p] = NONE if v is None else (1 if v else 0)
    update(p)


def wire(src, dst):
    """Connect output src to input dst (dst follows src); src None unwires."""
    t = pins.tab
    old = t[WSRC + dst]
    if old != NONE:
        t[FANOUT + old] -= 1
    if src is None or src == dst:
        t[WSRC + dst] = NONE
    else:
        t[WSRC + dst] = src
        t[FANOUT + src] += 1
    update(dst)


def history(p=None, out=None):
    """[(pin, level, t_us)] of the retained output changes, oldest first."""
    n = pins.wtab[HIST_N]
    start = n - HIST_LEN if n > HIST_LEN else 0
    res = [] if out is None else out
    for k in range(start, n):
        i = k % HIST_LEN
        pl = pins.tab[HIST + i]
        if p is None or pl >> 1 == p:
            res.append((pl >> 1, pl & 1, pins.wtab[HIST_T + i]))
    return res


def reset_pins():
    """Forget every pin (a fresh board): every row 0 but drive, stuck and
    wire source (NONE), every word 0."""
    t = pins.tab
    for i in range(len(t)):
        t[i] = NONE if DRIVE <= i < FANOUT else 0
    w = pins.wtab
    for i in range(len(w)):
        w[i] = 0


# ---- uart lines ---------------------------------------------------------------------
def set_noise(uid, rate, kind=FLIP, seed=None):
    """Noise on line uid: rate is a probability per byte (0..1)."""
    uart.lw[uid] = int(rate * 65536) if rate > 0 else 0
    uart.lb[_KIND + uid] = kind
    if seed is not None:
        uart.lw[_RNG] = (seed & 0xFFFFFFFF) or 1


def set_mode(uid, mode, host=None, port=None):
    """Switch line uid to LOOP, HOST or BRIDGE (to host:port)."""
    io = uart.io
    old = io[_SOCK + uid]
    if old is not None:
        old.close()
        io[_SOCK + uid] = None
    if mode == HOST and io[uid] is None:
        io[uid] = bytearray(_TXCAP)
        uart.lw[_TXLEN + uid] = 0
    if mode == BRIDGE:
        import socket

        s = socket.socket()
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        s.setblocking(False)
        if io[_BBUF] is None:
            io[_BBUF] = bytearray(64)
        io[_SOCK + uid] = s
    uart.lb[uid] = mode


def inject(uid, data):
    """Bytes arriving on line uid's RX pin; returns how many were accepted."""
    u = uart.uarts[uid]
    if u is None:
        return 0
    before = u.overruns
    for i in range(len(data)):
        u._rx_put(data[i])
    return len(data) - (u.overruns - before)


def take_tx(uid):
    """HOST mode: the TX bytes kept since the last call (bytes; b"" when
    none, without allocating)."""
    n = uart.lw[_TXLEN + uid]
    if not n:
        return b""
    uart.lw[_TXLEN + uid] = 0
    return bytes(uart.io[uid][:n])


# ---- spi devices --------------------------------------------------------------------
_TYP_PROG_US = const(700)  # nor._TYP_PROG_US
_TYP_ERASE_US = const(30000)  # nor._TYP_ERASE_US


def attach_nor(bus, cs, size=65536, path=None, prog_us=_TYP_PROG_US, erase_us=_TYP_ERASE_US):
    from hal.sim.nor import NorFlash

    return spi.attach(bus, cs, NorFlash(size, path, prog_us, erase_us))


def find(bus, cs):
    for dev in spi.devices:
        if dev.bus == bus and dev.cs == cs:
            return dev
    return None


def detach_all():
    """Remove every device."""
    for dev in spi.devices:
        pins.tab[CS + dev.cs] = 0
    del spi.devices[:]
    for b in range(len(spi._sel)):
        spi._sel[b] = 0


def peek(dev, addr, n):
    """A NOR flash's contents, bypassing the bus (bytes)."""
    out = bytearray(n)
    for i in range(n):
        out[i] = dev._read((addr + i) % dev.size)
    return bytes(out)


# ---- watchdog, running --------------------------------------------------------------
def fire():
    """Host op `wdt`: reset now as the watchdog would (even if none runs)."""
    wdt.expire(wdt._active)


def serve(ms=None):
    """Run hal.sim.poll() every millisecond, for `ms` ms or forever."""
    from hal.sim import idle, ticks_diff, ticks_ms

    t0 = ticks_ms()
    while ms is None or ticks_diff(ticks_ms(), t0) < ms:
        idle()
