"""keep vboard: run a virtual board: the unix port behind a serial-like console
(--board unix), or the official rp2 firmware on an emulated RP2040
(--board rpi_pico).

Prints the console URL as the first stdout line (flushed), then one JSON
info line; board events (crashes, safe boots) go to stderr, and so does,
at the end, how much output was dropped with no client connected. Runs until
Ctrl-C or SIGTERM. SIGUSR1 resets the board, SIGUSR2 resets it into safe
boot.
"""

import json
import signal
import sys
import threading

from ..errors import KeepError
from ..vboard import open_virtual, registry
from ..vboard.faults import parse_spec
from ._vboard_args import add_vboard

HELP = "run a virtual board (unix port, or an emulated Pico) with a socket:// or pty console"
UNIX_ONLY = ("pty", "link_faults", "no_root")


def add_arguments(p):
    add_vboard(p, heap_note="; a ROMFS image in the flash (keep deploy --romfs) is mapped "
                            "below it, outside this figure")
    p.add_argument("--flash", metavar="DIR",
                   help="directory used as the board's flash (default: a fresh temp dir)")
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:0",
                   help="TCP address of the console (default: %(default)s, any free port)")
    p.add_argument("--pty", action="store_true",
                   help="serve the console on a pty instead of TCP")
    p.add_argument("--link-faults", metavar="SPEC", default="",
                   help="damage board->host bytes, e.g. drop=0.001,flip=0.001,dup=0.001")
    p.add_argument("--seed", type=int, default=0, help="seed for --link-faults (default: 0)")
    p.add_argument("--no-root", action="store_true",
                   help="don't mount the flash dir at / (cwd is still the flash dir)")
    p.add_argument("--no-crlf", action="store_true",
                   help="send line ends as the unix port prints them (LF), not CR LF as a board "
                        "does; for binary protocols over the console, e.g. mpremote mount writes")
    p.add_argument("-v", "--verbose", action="store_true", help="report every reboot on stderr")


def _say(msg):
    print(f"keep vboard: {msg}", file=sys.stderr, flush=True)


def main(args):
    parse_spec(args.link_faults)  # one-line error before anything starts
    if args.board != "unix":
        for name in UNIX_ONLY + ("heap",):
            if getattr(args, name):
                flag = "--" + name.replace("_", "-")
                raise KeepError(f"{flag} is for the unix virtual board; the emulated "
                                f"{args.board} runs its own firmware as it is")
    stop = threading.Event()

    def on_event(kind, message):
        if args.verbose or kind != "reboot":
            _say(message)

    vb = open_virtual(args.board, args.flash, heap=args.heap, listen=args.listen,
                      pty=args.pty, link_faults=args.link_faults, seed=args.seed,
                      root_fs=not args.no_root, on_event=on_event, crlf=not args.no_crlf,
                      firmware=args.firmware)
    old = {}

    def on_stop(signum, frame):
        stop.set()

    def on_reset(signum, frame):
        vb.reset(safe=(signum == signal.SIGUSR2), wait=False)

    try:
        vb.start()
        for sig, fn in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop),
                        (signal.SIGUSR1, on_reset), (signal.SIGUSR2, on_reset)):
            old[sig] = signal.signal(sig, fn)
        print(vb.url, flush=True)
        if args.board == "unix":  # the emulated Pico registers itself (its clock)
            registry.register(vb.url, board=vb.board, kind="unix", clock="wall",
                              ctl_port=vb.sim_ctl_port, flash=str(vb.flash_dir))
        info = {"url": vb.url, "flash": str(vb.flash_dir), "sim_ctl_port": vb.sim_ctl_port,
                "heap": vb.heap, "board": vb.board}
        if vb.faults.active:
            info["link_faults"] = {"drop": vb.faults.drop, "flip": vb.faults.flip,
                                   "dup": vb.faults.dup, "seed": vb.faults.seed}
        print(json.dumps(info), flush=True)
        _say(f"{vb.url} flash={vb.flash_dir} sim_ctl_port={vb.sim_ctl_port}; Ctrl-C to stop")
        while not stop.wait(0.5):
            if not vb.running:
                raise KeepError(f"the virtual board stopped: {vb.error!r}")
    except KeyboardInterrupt:
        pass
    finally:
        registry.unregister(vb.url or "")
        vb.stop()
        for sig, fn in old.items():
            signal.signal(sig, fn)
    if vb.faults.active:
        _say("link faults: " + ", ".join(f"{k}={v}" for k, v in vb.faults.counts.items()))
    # The one place output is lost on purpose (as a board's USB port drops
    # it while no port is open): say how much, so a gap is never a mystery.
    _say(f"stopped; {vb.dropped} bytes of console output dropped while no client was connected")
    return 0
