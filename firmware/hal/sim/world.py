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

Invariants:
- State lives in the hal.sim modules' preallocated tables; nothing here
  keeps state of its own, so loading it late changes no behaviour.
"""

from micropython import const

from hal import WDT_RESET
from hal.sim import pins, spi, uart, wdt
from hal.sim.pins import update

NPINS = const(48)  # = pins._NPINS
NONE = const(0xFF)  # "not set" in the per-pin byte tables (= pins._NONE)
HIST_LEN = const(64)  # output changes the history ring keeps (= pins._HIST_LEN)
LOOP = const(0)  # uart line modes (uart.line_mode)
HOST = const(1)
BRIDGE = const(2)
FLIP = const(0)  # uart noise kinds (uart.noise_kind)
INSERT = const(1)
DEAD = const(1)  # spi device .fault: MISO stuck at 0xFF, commands ignored
NEVER_READY = const(2)  # spi device .fault: answers but stays busy forever
FAULT_NAMES = ("ok", "dead", "busy")  # spi device .fault, as the host names it


# ---- pins -------------------------------------------------------------------------
def drive(p, v):
    """Host drives input p to v (0/1), or releases it (None)."""
    pins.drive[p] = NONE if v is None else (1 if v else 0)
    update(p)


def stuck(p, v):
    """Fault: hold p at v whatever drives it; None clears the fault."""
    pins.stuck[p] = NONE if v is None else (1 if v else 0)
    update(p)


def wire(src, dst):
    """Connect output src to input dst (dst follows src); src None unwires."""
    ws = pins.wire_src
    old = ws[dst]
    if old != NONE:
        pins.fanout[old] -= 1
    if src is None or src == dst:
        ws[dst] = NONE
    else:
        ws[dst] = src
        pins.fanout[src] += 1
    update(dst)


def history(p=None, out=None):
    """[(pin, level, t_us)] of the retained output changes, oldest first."""
    n = pins.hist_n[0]
    start = n - HIST_LEN if n > HIST_LEN else 0
    res = [] if out is None else out
    for k in range(start, n):
        i = k % HIST_LEN
        pl = pins.hist_pl[i]
        if p is None or pl >> 1 == p:
            res.append((pl >> 1, pl & 1, pins.hist_t[i]))
    return res


def reset_pins():
    """Forget every pin (a fresh board)."""
    for p in range(NPINS):
        pins.pmode[p] = pins.ppull[p] = pins.latch[p] = pins.level[p] = pins.edge_mask[p] = 0
        pins.drive[p] = pins.stuck[p] = pins.wire_src[p] = NONE
        pins.fanout[p] = pins.irq_slot[p] = pins.cs_dev[p] = 0
        pins.irq_bits[p] = 0
    pins.hist_n[0] = 0


# ---- uart lines ---------------------------------------------------------------------
def set_noise(uid, rate, kind=FLIP, seed=None):
    """Noise on line uid: rate is a probability per byte (0..1)."""
    uart.noise_rate[uid] = int(rate * 65536) if rate > 0 else 0
    uart.noise_kind[uid] = kind
    if seed is not None:
        uart._rng[0] = (seed & 0xFFFFFFFF) or 1


def set_mode(uid, mode, host=None, port=None):
    """Switch line uid to LOOP, HOST or BRIDGE (to host:port)."""
    old = uart._bridge[uid]
    if old is not None:
        old.close()
        uart._bridge[uid] = None
    if mode == HOST and uart._txcap[uid] is None:
        uart._txcap[uid] = bytearray(uart.TXCAP)
        uart._txcap_len[uid] = 0
    if mode == BRIDGE:
        import socket

        s = socket.socket()
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        s.setblocking(False)
        uart._bridge[uid] = s
    uart.line_mode[uid] = mode


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
    """HOST mode: the TX bytes kept since the last call (bytes)."""
    cap = uart._txcap[uid]
    if cap is None:
        return b""
    n = uart._txcap_len[uid]
    uart._txcap_len[uid] = 0
    return bytes(cap[:n])


# ---- spi devices --------------------------------------------------------------------
def attach_nor(bus, cs, size=65536, path=None, prog_us=700, erase_us=30000):
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
        pins.cs_dev[dev.cs] = 0
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
    w = wdt._active[0]
    if w is not None:
        w.expire()
    else:
        wdt.write_cause(WDT_RESET)
        if wdt.on_expire is not None:
            wdt.on_expire(None)
        else:
            import os

            os.system(wdt.KILL)


def serve(ms=None):
    """Run hal.sim.poll() every millisecond, for `ms` ms or forever."""
    from hal.sim import idle, ticks_diff, ticks_ms

    t0 = ticks_ms()
    while ms is None or ticks_diff(ticks_ms(), t0) < ms:
        idle()
