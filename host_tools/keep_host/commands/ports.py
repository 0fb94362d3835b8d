"""keep ports: the serial ports attached here (with the board each looks
like) and the virtual boards running on this machine."""

import json

from .. import ports

HELP = "list attached boards (serial ports, matched to boards/*.toml by USB id) and virtual boards"


def add_arguments(p):
    p.add_argument("--all", action="store_true", help="also serial ports with no USB id")
    p.add_argument("--json", action="store_true", help="one JSON object per port")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="port names only, one a line (for scripts and shell completion)")


def main(args):
    real = ports.attached(usb_only=not args.all)
    virt = ports.virtual()
    if args.quiet:
        for name in [a.device for a in real] + [v["url"] for v in virt]:
            print(name)
        return 0
    if args.json:
        for a in real:
            print(json.dumps({"port": a.device, "board": a.board, "vid": a.vid, "pid": a.pid,
                              "serial_number": a.serial_number, "description": a.description}))
        for v in virt:
            print(json.dumps({"port": v["url"], "board": v.get("board"), "virtual": True,
                              "pid": v.get("owner")}))
        return 0
    for a in real:
        print(a.line())
    for v in virt:
        print(f"{v['url']:<22} {v.get('board') or '-':<15} virtual ({v.get('kind', '?')}), "
              f"process {v.get('owner')}")
    if not real and not virt:
        print("no boards attached and no virtual boards running "
              "(keep vboard starts one; keep ports --all shows every serial port)")
    port, where = ports.configured()
    if port:
        print(f"default port: {port} (from {where})")
    return 0
