"""keep demo: boot the unix port and show what it is (the kernel demo grows here)."""

from .. import unixport
from ..errors import KeepError

HELP = "run the demo on a virtual board"

_PROBE = (
    "import sys, gc, micropython\n"
    "gc.collect()\n"
    "print('MicroPython', '.'.join(str(v) for v in sys.implementation.version[:3]),"
    " sys.implementation._build, 'heap', gc.mem_free() + gc.mem_alloc(), 'bytes')\n"
)


def add_arguments(p):
    p.add_argument("--heap", default=unixport.DEFAULT_HEAP,
                   help="MicroPython heap size, e.g. 64K (default: %(default)s)")


def main(args):
    res = unixport.run(["-c", _PROBE], heap=args.heap)
    if res.returncode:
        raise KeepError(f"the unix port failed to start: {res.stderr.strip() or res.stdout.strip()}")
    print(res.stdout.strip())
    return 0
