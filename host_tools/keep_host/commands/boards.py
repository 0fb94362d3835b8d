"""keep boards: list the board definitions in boards/."""

from ..boards import load_all

HELP = "list the boards Keep knows (boards/*.toml)"


def add_arguments(p):
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also show MPU rules, flasher and USB ids")


def main(args):
    for b in load_all():
        print(f"{b.name:<15} {b.chip:<7} {b.mpy_arch:<10} heap {b.heap_bytes:>7}  {b.description}")
        if args.verbose:
            m = b.mpu
            rule = "power of two, aligned to size" if m.pow2 else f"multiple of {m.align}"
            print(f"{'':15} mpu: {m.regions} regions/task, >= {m.min_size} bytes, {rule} "
                  f"({m.enforced})")
            f = b.flasher
            how = {"esptool": f"esptool --chip {f.chip} @ {f.offset:#x}",
                   "uf2": f"UF2 family {f.family_id:#010x} onto {f.drive_label}",
                   "none": "nothing to flash"}[f.kind]
            print(f"{'':15} flash: {how}")
            for u in b.usb:
                print(f"{'':15} usb {u.vid:04x}:{u.pid:04x} {u.mode}: {u.name}")
    return 0
