"""Wiring overlays: an app written for one board's rig, compiled for another's.

The stock apps (firmware/apps/*/app.toml) are written for the unix virtual
board and its rig: the board file's `[test_wiring]` (a GPIO jumper, a
looped-back UART, an SPI flash) and its `pins.led`. Compiled with a
wiring overlay, every pin, UART and SPI device of that rig in the manifest
becomes the same part of the overlay's rig: the jumper's ends, the LED,
the looped-back UART, the flash's bus and chip select. That covers the
tasks' `owns` and the arguments that name them (out_pin, in_pin, led, pin,
a gpio server's rights, a uart server's rights, an spi server's devices).

The overlay is the target board's own `[test_wiring]` (`--wiring board`,
what the HIL suite and `keep demo --board rpi_pico` use) or a user's file
with the same tables as a board file:

    [test_wiring]
    gpio_loop = [[2, 3]]
    uart_loop = [1]
    spi_flash = { bus = 0, cs = 5 }
    [pins]
    led = 25

Nothing is written anywhere: check_data() rewires the parsed manifest
before reading it (rewire()), so the app's own modules are deployed from
where they are.
"""

import dataclasses
from pathlib import Path

from ..errors import KeepError
from ..tomldata import Reader, parse

BOARD = "board"  # the --wiring value that means the target board's own [test_wiring]


@dataclasses.dataclass
class Wiring:
    gpio_loop: tuple = ()  # ((out_pin, in_pin), ...)
    uart_loop: tuple = ()  # (uart id, ...)
    spi_flash: dict = dataclasses.field(default_factory=dict)  # {"bus", "cs", ...}
    led: int = None


def of_board(board):
    """A board's rig: its [test_wiring] and pins.led."""
    w = board.test_wiring
    return Wiring(tuple(w.gpio_loop), tuple(w.uart_loop), dict(w.spi_flash), board.led)


def as_dict(board):
    """The board's test_wiring as a dict: gpio_loop [[out, in]], uart_loop, spi_flash."""
    return dataclasses.asdict(board.test_wiring)


def read_overlay(path, board):
    """A user's overlay file (the [test_wiring] and [pins] led of a board file),
    checked against `board`'s pins, UARTs and SPI buses; KeepError (one line)."""
    from ..boards import _wiring

    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise KeepError(f"--wiring {path}: cannot read it ({err.strerror or err})")
    data, problem = parse(text, p.name)
    r = Reader()
    if problem is None:
        r.known(data, ("test_wiring", "pins"), "")
        pins = r.table(data, "pins", "", default={}) or {}
        r.known(pins, ("led",), "pins")
        led = r.int_(pins, "led", "pins", 0, 255, default=None)
        if led is not None and led not in board.gpio:
            r.add("pins.led", f"pin {led} is not a pin of {board.name}")
        w = _wiring(r, data, board.gpio, board.uarts, board.spis)
    problems = [problem] if problem else r.problems
    if problems:
        raise KeepError(f"--wiring {path}: {problems[0]}")
    return Wiring(w.gpio_loop, w.uart_loop, w.spi_flash, led)


def resolve(spec, board):
    """--wiring's value (BOARD or a file path) -> the Wiring to compile for."""
    return of_board(board) if spec == BOARD else read_overlay(spec, board)


class RigMap:
    """One rig's parts -> the same parts of another rig."""

    def __init__(self, src, dst):
        self.pins = {a: b for ps, pd in zip(src.gpio_loop, dst.gpio_loop, strict=False)
                     for a, b in zip(ps, pd, strict=False)}
        if src.led is not None and dst.led is not None:
            self.pins[src.led] = dst.led
        self.uarts = dict(zip(src.uart_loop, dst.uart_loop, strict=False))
        fs, fd = src.spi_flash, dst.spi_flash
        self.spi = {(fs["bus"], fs["cs"]): (fd["bus"], fd["cs"])} if fs and fd else {}

    def pin(self, p):
        return self.pins.get(p, p)

    def uart(self, u):
        return self.uarts.get(u, u)

    def cs(self, cs):
        return {c: cd for (_, c), (_, cd) in self.spi.items()}.get(cs, cs)

    def device(self, d):
        bus, cs = self.spi.get((d["bus"], d["cs"]), (d["bus"], d["cs"]))
        return {**d, "bus": bus, "cs": cs}


def rewire(doc, board_name, rig):
    """The manifest `doc` (a dict from app.toml) for `board_name`, whose rig is `rig`'s target."""
    doc = dict(doc)
    doc["board"] = board_name
    tasks = {n: dict(t) for n, t in (doc.get("tasks") or {}).items() if isinstance(t, dict)}
    doc["tasks"] = tasks
    for t in tasks.values():
        server = str(t.get("entry", "")).split(":")[0]
        owns = t.get("owns")
        if isinstance(owns, dict):
            owns = dict(owns)
            if "pins" in owns:
                owns["pins"] = [rig.pin(p) for p in owns["pins"]]
            if "uart" in owns:
                owns["uart"] = [rig.uart(u) for u in owns["uart"]]
            if "spi" in owns:
                owns["spi"] = [rig.device(d) for d in owns["spi"]]
            t["owns"] = owns
        args = dict(t.get("args") or {})
        for name in ("out_pin", "in_pin", "led", "pin"):  # pin: blinky's LED
            if name in args:
                args[name] = rig.pin(args[name])
        if "rights" in args and server == "servers.gpio":
            args["rights"] = {b: [rig.pin(p) for p in ps] for b, ps in args["rights"].items()}
        if "rights" in args and server == "servers.uart":
            args["rights"] = {b: rig.uart(u) for b, u in args["rights"].items()}
        if "devices" in args and server == "servers.spi":
            args["devices"] = {b: rig.cs(c) for b, c in args["devices"].items()}
        if args:
            t["args"] = args
    return doc


def overlay(data, board, spec, boards_root=None):
    """The parsed manifest `data`, written for the board it names, rewired for
    `board` with the overlay `spec`; unchanged when it names no known board."""
    from ..boards import load_board

    written_for = data.get("board")
    if not isinstance(written_for, str):
        return data
    try:
        src = of_board(load_board(written_for, boards_root))
    except KeepError:
        return data  # check_data reports the unknown board
    return rewire(data, board.name, RigMap(src, resolve(spec, board)))
