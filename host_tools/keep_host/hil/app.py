"""An app written for the unix board, on the board at hand: the manifest's
pins, UART and flash rewritten from the boards' test wiring
(boards/*.toml [test_wiring] and pins.led).

The stock apps (firmware/apps/*/app.toml) are written for the unix virtual
board. For another board, render() copies the firmware tree to a build
directory (unchanged files compile from the content cache) and writes an
app.toml where every pin, UART and SPI device of the unix board's rig is
replaced by the same part of this board's rig: the GPIO jumper's ends, the
LED, the looped-back UART, the flash's bus and chip select. That covers the
servers' `owns` and the arguments that name them (out_pin, in_pin, led, pin, a
gpio server's rights, a uart server's rights, an spi server's devices).
"""

import shutil
import tomllib
from pathlib import Path

from .. import paths


def wiring(board):
    """The board's test_wiring as a dict: gpio_loop [[out, in]], uart_loop, spi_flash."""
    import dataclasses

    w = board.test_wiring
    return dataclasses.asdict(w) if dataclasses.is_dataclass(w) else dict(w or {})


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f'{_key(k)} = {_toml_value(x)}' for k, x in v.items()) + " }"
    raise TypeError(v)


def _key(k):
    return k if k.replace("_", "").isalnum() else _toml_value(k)


def dumps(doc):
    """A manifest dict back to TOML (top-level scalars, [tables] of scalars/inline tables)."""
    out = [f"{_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if not isinstance(v, dict):
            continue
        if k == "tasks":
            for name, t in v.items():
                out.append(f"\n[tasks.{name}]")
                out += [f"{_key(a)} = {_toml_value(b)}" for a, b in t.items()]
        else:
            out.append(f"\n[{k}]")
            out += [f"{_key(a)} = {_toml_value(b)}" for a, b in v.items()]
    return "\n".join(out) + "\n"


class RigMap:
    """The unix board's rig parts -> the same parts of another board's rig."""

    def __init__(self, unix, board):
        u, w = wiring(unix), wiring(board)
        self.pins = {a: b for pu, pw in zip(u["gpio_loop"], w["gpio_loop"], strict=False)
                     for a, b in zip(pu, pw, strict=False)}
        if unix.led is not None and board.led is not None:
            self.pins[unix.led] = board.led
        self.uarts = dict(zip(u["uart_loop"], w["uart_loop"], strict=False))
        fu, fw = u["spi_flash"], w["spi_flash"]
        self.spi = {(fu["bus"], fu["cs"]): (fw["bus"], fw["cs"])} if fu and fw else {}

    def pin(self, p):
        return self.pins.get(p, p)

    def uart(self, u):
        return self.uarts.get(u, u)

    def cs(self, cs):
        return {c: cw for (_, c), (_, cw) in self.spi.items()}.get(cs, cs)


def rewire(doc, board_name, rig):
    """The manifest `doc` (a dict from app.toml) for a board whose rig is `rig`'s target."""
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in doc.items()}
    doc["board"] = board_name
    tasks = {n: dict(t) for n, t in doc.get("tasks", {}).items()}
    doc["tasks"] = tasks
    for t in tasks.values():
        server = t.get("entry", "").split(":")[0]
        owns = t.get("owns")
        if owns:
            owns = dict(owns)
            if "pins" in owns:
                owns["pins"] = [rig.pin(p) for p in owns["pins"]]
            if "uart" in owns:
                owns["uart"] = [rig.uart(u) for u in owns["uart"]]
            if "spi" in owns:
                owns["spi"] = [dict(zip(("bus", "cs"), rig.spi.get((d["bus"], d["cs"]),
                                                                   (d["bus"], d["cs"])), strict=True))
                               for d in owns["spi"]]
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


def render(app, board, build_root=None):
    """(app path, firmware dir) to deploy the stock app `app` to `board`;
    firmware None = the source tree (the unix board, or not a stock app)."""
    from ..boards import load_board

    src = paths.FIRMWARE
    if board.name == "unix" or not (src / "apps" / str(app) / "app.toml").exists():
        return app, None
    dst = Path(build_root or paths.ROOT / "build" / "rigged" / app) / board.name / "firmware"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.bin"))
    toml = dst / "apps" / app / "app.toml"
    doc = tomllib.loads(toml.read_text())
    rig = RigMap(load_board("unix"), board)
    toml.write_text("# generated by keep_host.hil.app for %s\n" % board.name
                    + dumps(rewire(doc, board.name, rig)))
    return toml, dst
