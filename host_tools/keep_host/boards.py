"""Boards as data: load and validate `boards/<name>.toml`.

A board file holds chip facts (mpy arch, heap, MPU limits), the board's
wiring (usable pins, UART/SPI/I2C buses, LED), how to flash it, the USB ids
that find it, and what the HIL rig has wired on it. docs/boards.md is the
reference for every key.

    board = load_board("rpi_pico")
    board.mpu.regions, board.uart(1).tx, board.flasher.family_id

Invariants: a Board returned by load_board() passed validate() in full (so
other code never re-checks it); an unknown name or a bad file is one
KeepError line that names the file and key, or lists the known boards.
"""

from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import KeepError
from .tomldata import Reader, join, parse

HALS = ("esp32", "rp2", "sim")
ARCHS = ("x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc")
FLASHER_KINDS = ("esptool", "uf2", "none")
USB_MODES = ("serial", "bootloader")
MAX_REGION_BYTES = 65536  # TR_MEMFAULT packs the offset in 16 bits (keep/abi.py)


@dataclass(frozen=True)
class Mpu:
    enforced: str  # "software" | "hardware"
    regions: int  # regions per task
    min_size: int
    pow2: bool  # sizes must be powers of two
    align: object  # int (bytes) or "size" (base aligned to the region's size)

    def size_problem(self, size):
        """Why `size` breaks this MPU's rules, or None."""
        if size < self.min_size:
            return f"{size} bytes is below the MPU minimum of {self.min_size}"
        if size > MAX_REGION_BYTES:
            return f"{size} bytes is above the largest region, {MAX_REGION_BYTES}"
        if self.pow2 and size & (size - 1):
            up = 1 << (size - 1).bit_length()
            return f"{size} bytes is not a power of two (this MPU needs one; try {up})"
        if isinstance(self.align, int) and size % self.align:
            return f"{size} bytes is not a multiple of {self.align}"
        return None


@dataclass(frozen=True)
class Uart:
    id: int
    tx: int
    rx: int
    console: bool = False


@dataclass(frozen=True)
class Spi:
    id: int
    sck: int
    mosi: int
    miso: int


@dataclass(frozen=True)
class I2c:
    id: int
    sda: int
    scl: int


@dataclass(frozen=True)
class Usb:
    vid: int
    pid: int
    name: str
    mode: str  # "serial" (the console) | "bootloader"


@dataclass(frozen=True)
class Flasher:
    kind: str  # a key of keep_host.flash.FLASHERS, or "none"
    chip: str = ""  # esptool --chip
    image_chip_id: int = -1  # ESP image extended-header chip id
    offset: int = 0
    baud: int = 460800
    family_id: int = 0  # UF2 family id
    drive_label: str = ""  # UF2 drive's Board-ID / volume label


@dataclass(frozen=True)
class TestWiring:
    gpio_loop: tuple = ()  # ((out_pin, in_pin), ...)
    uart_loop: tuple = ()  # (uart id, ...): TX jumpered to RX
    spi_flash: dict = field(default_factory=dict)  # {"bus", "cs", "part", "jedec_id"}


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    chip: str
    hal: str
    mpy_arch: str
    mpy_version: str
    heap_bytes: int
    max_msg: int
    trace_records: int
    max_tasks: int
    kernel_bytes: int
    task_overhead_bytes: int
    heap_budget_bytes: int
    slice_budget_ms: int
    mpu: Mpu
    gpio: tuple
    input_only: tuple
    led: int
    uarts: tuple
    spis: tuple
    i2cs: tuple
    flasher: Flasher
    usb: tuple
    test_wiring: TestWiring
    romfs_bytes: int = 0  # [memory] romfs_bytes: the ROMFS partition, 0 = none
    sim_devices_bytes: int = 0  # [memory] sim_devices_bytes: the simulated peripherals' room (unix)
    watchdog_ms: int = 0  # [boot] watchdog_ms: hardware watchdog timeout, 0 = off
    safeboot_pin: int = None  # [boot] safeboot_pin: held low at reset skips the kernel
    path: Path = None

    def uart(self, uid):
        return next((u for u in self.uarts if u.id == uid), None)

    def spi(self, sid):
        return next((s for s in self.spis if s.id == sid), None)

    def i2c(self, iid):
        return next((i for i in self.i2cs if i.id == iid), None)


def board_names(root=None):
    return sorted(p.stem for p in Path(root or paths.BOARDS).glob("*.toml"))


def load_board(name, root=None):
    """The Board called `name` (a file stem in boards/, or a path to a .toml)."""
    root = Path(root or paths.BOARDS)
    path = Path(name) if str(name).endswith(".toml") else root / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(board_names(root)) or "none"
        raise KeepError(f'unknown board "{name}" (known boards: {known})')
    board, problems = parse_board(path.read_text(), source=path.name, stem=path.stem)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise KeepError(f"{path.name}: {problems[0]}{more}")
    return board.__class__(**{**board.__dict__, "path": path})


def load_all(root=None):
    return [load_board(n, root) for n in board_names(root)]


def parse_board(text, source="board.toml", stem=None):
    """TOML text -> (Board or None, [Problem]). Checks every key."""
    data, problem = parse(text, source)
    if problem:
        return None, [problem]
    r = Reader()
    r.known(data, ("name", "description", "chip", "hal", "mpy", "memory", "kernel", "mpu",
                   "pins", "uart", "spi", "i2c", "flasher", "usb", "test_wiring", "boot"), "")
    name = r.str_(data, "name", "")
    if stem and name and name != stem:
        r.add("name", f'"{name}" must match the file name "{stem}"')
    top = dict(description=r.str_(data, "description", ""), chip=r.str_(data, "chip", ""),
               hal=r.str_(data, "hal", "", choices=HALS))

    mpy = r.table(data, "mpy", "") or {}
    r.known(mpy, ("arch", "version"), "mpy")
    arch = r.str_(mpy, "arch", "mpy", choices=ARCHS)
    version = r.str_(mpy, "version", "mpy")
    if version and not _is_version(version):
        r.add("mpy.version", f'"{version}" must look like "6.3"')

    mem = r.table(data, "memory", "") or {}
    r.known(mem, ("heap_bytes", "romfs_bytes", "sim_devices_bytes"), "memory")
    heap = r.int_(mem, "heap_bytes", "memory", 8192, 64 << 20)
    romfs = r.int_(mem, "romfs_bytes", "memory", 0, 16 << 20, default=0)
    sim_devices = r.int_(mem, "sim_devices_bytes", "memory", 0, 1 << 20, default=0)
    if romfs and romfs % 4096:
        r.add("memory.romfs_bytes", f"{romfs} must be a multiple of 4096 (a flash sector)")

    k = r.table(data, "kernel", "") or {}
    kkeys = {"max_msg": (1, 4096), "trace_records": (8, 65535), "max_tasks": (2, 255),
             "kernel_bytes": (0, 16 << 20), "task_overhead_bytes": (0, 1 << 20),
             "heap_budget_bytes": (0, 1 << 24), "slice_budget_ms": (0, 60000)}
    r.known(k, kkeys, "kernel")
    kern = {key: r.int_(k, key, "kernel", lo, hi) for key, (lo, hi) in kkeys.items()}

    m = r.table(data, "mpu", "") or {}
    r.known(m, ("enforced", "regions", "min_size", "pow2", "align"), "mpu")
    align = r.get(m, "align", "mpu", (int, str), what='an integer or "size"')
    if isinstance(align, str) and align != "size" or isinstance(align, int) and align < 1:
        r.add("mpu.align", f'{align!r} must be a positive integer or "size"')
    mpu = Mpu(r.str_(m, "enforced", "mpu", choices=("software", "hardware")),
              r.int_(m, "regions", "mpu", 1, 64), r.int_(m, "min_size", "mpu", 1, 1 << 20),
              r.bool_(m, "pow2", "mpu"), align)

    p = r.table(data, "pins", "") or {}
    r.known(p, ("gpio", "input_only", "led"), "pins")
    gpio = _int_list(r, p, "gpio", "pins", 0, 255)
    input_only = _int_list(r, p, "input_only", "pins", 0, 255, default=[])
    led = r.int_(p, "led", "pins", 0, 255)
    for pin in input_only:
        if pin not in gpio:
            r.add("pins.input_only", f"pin {pin} is not in pins.gpio")
    if led is not None and led not in gpio:
        r.add("pins.led", f"pin {led} is not in pins.gpio")

    uarts = _buses(r, data, "uart", Uart, ("tx", "rx"), gpio, extra={"console": False})
    spis = _buses(r, data, "spi", Spi, ("sck", "mosi", "miso"), gpio)
    i2cs = _buses(r, data, "i2c", I2c, ("sda", "scl"), gpio, optional=True)

    _distinct_bus_pins(r, uarts, spis, i2cs)
    bt = r.table(data, "boot", "", default={}) or {}
    r.known(bt, ("watchdog_ms", "safeboot_pin"), "boot")
    watchdog_ms = r.int_(bt, "watchdog_ms", "boot", 0, 600_000, default=0)
    safeboot_pin = r.int_(bt, "safeboot_pin", "boot", 0, 255, default=None)
    if safeboot_pin is not None and safeboot_pin not in gpio:
        r.add("boot.safeboot_pin", f"pin {safeboot_pin} is not in pins.gpio")
    flasher = _flasher(r, data)
    usb = _usb(r, data)
    wiring = _wiring(r, data, gpio, uarts, spis)

    if r.problems:
        return None, r.problems
    board = Board(name=name, **top, mpy_arch=arch, mpy_version=version, heap_bytes=heap,
                  romfs_bytes=romfs, sim_devices_bytes=sim_devices, **kern, mpu=mpu, gpio=tuple(gpio), input_only=tuple(input_only), led=led,
                  uarts=uarts, spis=spis, i2cs=i2cs, flasher=flasher, usb=usb,
                  test_wiring=wiring, watchdog_ms=watchdog_ms, safeboot_pin=safeboot_pin)
    return board, []


def _is_version(s):
    parts = s.split(".")
    return len(parts) == 2 and all(x.isdigit() for x in parts)


def _int_list(r, table, key, path, lo, hi, default=None):
    from .tomldata import MISSING

    arr = r.array(table, key, path, MISSING if default is None else default)
    out = []
    for i, v in enumerate(arr or ()):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            r.add(f"{join(path, key)}[{i}]", f"must be an integer {lo}..{hi}, not {v!r}")
        else:
            out.append(v)
    return out


def _buses(r, data, key, cls, pin_keys, gpio, extra=None, optional=False):
    arr = r.array(data, key, "", default=[] if optional else None) or []
    out, seen = [], set()
    extra = extra or {}
    for i, t in enumerate(arr):
        path = f"{key}[{i}]"
        if not isinstance(t, dict):
            r.add(path, "must be a table ([[" + key + "]])")
            continue
        r.known(t, ("id", *pin_keys, *extra), path)
        bid = r.int_(t, "id", path, 0, 15)
        if bid in seen:
            r.add(join(path, "id"), f"{key} {bid} is defined twice")
        seen.add(bid)
        pins = {pk: r.int_(t, pk, path, 0, 255) for pk in pin_keys}
        for pk, v in pins.items():
            if v is not None and v not in gpio:
                r.add(join(path, pk), f"pin {v} is not in pins.gpio")
        more = {ek: r.bool_(t, ek, path, default=dv) for ek, dv in extra.items()}
        if bid is not None and None not in pins.values():
            out.append(cls(bid, *pins.values(), **more))
    return tuple(out)


def _distinct_bus_pins(r, uarts, spis, i2cs):
    """No pin serves two bus definitions (a board file typo, caught here)."""
    used = {}
    for kind, buses, keys in (("uart", uarts, ("tx", "rx")), ("spi", spis, ("sck", "mosi", "miso")),
                              ("i2c", i2cs, ("sda", "scl"))):
        for b in buses:
            for k in keys:
                pin, me = getattr(b, k), f"{kind} {b.id} {k}"
                if pin in used:
                    r.add(kind, f"pin {pin} is both {used[pin]} and {me}")
                used[pin] = me


def _flasher(r, data):
    f = r.table(data, "flasher", "") or {}
    kind = r.str_(f, "kind", "flasher", choices=FLASHER_KINDS)
    if kind == "esptool":
        r.known(f, ("kind", "chip", "image_chip_id", "offset", "baud"), "flasher")
        return Flasher(kind, chip=r.str_(f, "chip", "flasher"),
                       image_chip_id=r.int_(f, "image_chip_id", "flasher", 0, 0xFFFF),
                       offset=r.int_(f, "offset", "flasher", 0, 1 << 26),
                       baud=r.int_(f, "baud", "flasher", 9600, 5_000_000, default=460800))
    if kind == "uf2":
        r.known(f, ("kind", "family_id", "drive_label"), "flasher")
        return Flasher(kind, family_id=r.int_(f, "family_id", "flasher", 0, 0xFFFFFFFF),
                       drive_label=r.str_(f, "drive_label", "flasher"))
    r.known(f, ("kind",), "flasher")
    return Flasher(kind or "none")


def _usb(r, data):
    out = []
    for i, t in enumerate(r.array(data, "usb", "", default=[]) or []):
        path = f"usb[{i}]"
        if not isinstance(t, dict):
            r.add(path, "must be a table ([[usb]])")
            continue
        r.known(t, ("vid", "pid", "name", "mode"), path)
        out.append(Usb(r.int_(t, "vid", path, 0, 0xFFFF), r.int_(t, "pid", path, 0, 0xFFFF),
                       r.str_(t, "name", path, default=""),
                       r.str_(t, "mode", path, default="serial", choices=USB_MODES)))
    return tuple(out)


def _wiring(r, data, gpio, uarts, spis):
    t = r.table(data, "test_wiring", "", default={}) or {}
    r.known(t, ("gpio_loop", "uart_loop", "spi_flash"), "test_wiring")
    loops = []
    for i, pair in enumerate(r.array(t, "gpio_loop", "test_wiring", default=[]) or []):
        key = f"test_wiring.gpio_loop[{i}]"
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(x, int) and x in gpio for x in pair)):
            r.add(key, f"must be [out_pin, in_pin] of board pins, not {pair!r}")
        else:
            loops.append(tuple(pair))
    uart_ids = {u.id for u in uarts}
    uloop = _int_list(r, t, "uart_loop", "test_wiring", 0, 15, default=[])
    for u in uloop:
        if u not in uart_ids:
            r.add("test_wiring.uart_loop", f"uart {u} is not defined ([[uart]])")
    sf = r.table(t, "spi_flash", "test_wiring", default={}) or {}
    if sf:
        r.known(sf, ("bus", "cs", "part", "jedec_id"), "test_wiring.spi_flash")
        bus = r.int_(sf, "bus", "test_wiring.spi_flash", 0, 15)
        cs = r.int_(sf, "cs", "test_wiring.spi_flash", 0, 255)
        if bus is not None and bus not in {s.id for s in spis}:
            r.add("test_wiring.spi_flash.bus", f"spi {bus} is not defined ([[spi]])")
        if cs is not None and cs not in gpio:
            r.add("test_wiring.spi_flash.cs", f"pin {cs} is not in pins.gpio")
        r.str_(sf, "part", "test_wiring.spi_flash", default="")
        r.int_(sf, "jedec_id", "test_wiring.spi_flash", 0, 0xFFFFFF, default=0)
    return TestWiring(tuple(loops), tuple(uloop), dict(sf))
