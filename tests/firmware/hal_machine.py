# hal.esp32 and hal.rp2 against a fake `machine` (the unix port has no
# Pin/UART/SPI): the calls they make follow the documented machine API, and
# their own logic (irq -> post, polled RX, clamps, reset causes) works.
import sys

from keep import irq

calls = []


class FakePin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    PULL_DOWN = 4
    IRQ_RISING = 8
    IRQ_FALLING = 16

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.v = value or 0
        self.handler = None
        if mode != -1:
            calls.append(("Pin", id, mode, pull, value))

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v

    def irq(self, handler=None, trigger=0, hard=False):
        self.handler = handler
        calls.append(("irq", self.id, trigger, hard, handler is not None))

    def init(self, mode):
        calls.append(("Pin.init", self.id, mode))


class FakeUART:
    def __init__(self, id, **kw):
        self.rx = b""
        calls.append(("UART", id, sorted((k, v if not isinstance(v, FakePin) else "Pin%d" % v.id)
                                         for k, v in kw.items())))

    def init(self, **kw):
        calls.append(("UART.init", sorted(kw.items())))

    def write(self, b):
        return len(b)

    def any(self):
        return len(self.rx)

    def readinto(self, buf, n):
        if not self.rx:
            return None  # what a port returns on timeout=0 with no data
        k = min(n, len(self.rx))
        buf[:k] = self.rx[:k]
        self.rx = self.rx[k:]
        return k

    def deinit(self):
        calls.append(("UART.deinit",))


class FakeSPI:
    def __init__(self, id, **kw):
        calls.append(("SPI", id, sorted((k, v if not isinstance(v, FakePin) else "Pin%d" % v.id)
                                        for k, v in kw.items())))

    def write_readinto(self, w, r):
        r[:] = w


class FakeWDT:
    def __init__(self, timeout):
        calls.append(("WDT", timeout))

    def feed(self):
        calls.append(("feed",))


class machine:
    Pin = FakePin
    UART = FakeUART
    SPI = FakeSPI
    WDT = FakeWDT
    PWRON_RESET = 1
    WDT_RESET = 3
    cause = 3

    @staticmethod
    def reset_cause():
        return machine.cause

    @staticmethod
    def idle():
        calls.append(("idle",))


sys.modules["machine"] = machine
import hal  # noqa: E402

for name in ("esp32", "rp2"):
    h = hal.load(name)
    print("==", h.NAME)
    calls.clear()
    led = h.Pin(2, hal.OUT, value=1)
    led.toggle()
    print("toggle", led.value())
    btn = h.Pin(0, hal.IN, pull=hal.PULL_UP)
    btn.irq(5, 1 << 2, hal.FALLING)
    hw = calls[-1]
    print(calls)
    irq.take(5)
    btn._p.handler(btn._p)  # the port calls the handler from its ISR
    print("isr posts", irq.take(5))
    btn.irq(None)
    btn.deinit()
    calls.clear()
    u = h.UART(1, 9600, tx=4, rx=5, rxbuf=512)
    buf = bytearray(8)
    print("empty read", u.readinto(buf))
    u.notify(6, 1 << 1)
    h.poll()
    print("no data no post", irq.take(6))
    u._u.rx = b"abc"
    h.poll()
    print("rx posts", irq.take(6), u.readinto(buf, 2), bytes(buf[:2]))
    u.init(baudrate=115200, parity=1)
    u.deinit()
    h.poll()
    print(calls)
    calls.clear()
    s = h.SPI(1, 2000000, 0, 0, sck=10, mosi=11, miso=12)
    r = bytearray(2)
    s.write_readinto(b"\x9f\x01", r)
    print(calls, r)
    calls.clear()
    w = h.WDT(100)
    w2 = h.WDT(20000)
    w.feed()
    print(calls, w.timeout_ms, w2.timeout_ms)
    machine.cause = 3
    print("cause", hal.RESET_NAMES[h.reset_cause()])
    machine.cause = 1
    print("cause", hal.RESET_NAMES[h.reset_cause()])
    machine.cause = 99
    print("cause", hal.RESET_NAMES[h.reset_cause()])
