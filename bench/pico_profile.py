"""Where the emulated Pico's cycles go in the kernel bench: a sampling profile.

The runner's control channel answers {"op": "cpu"} with the core's PC and
LR. This samples it while the board runs bench/kernel_bench.py's two
workloads (Keep's round trip, then asyncio's), and names each sample:

- a PC in flash (the firmware's C: VM, runtime, allocator) through
  `arm-none-eabi-addr2line -f` on the firmware's ELF, built from the same
  sources as the vendored UF2 (same addresses; emu/rp2040/build_firmware.py
  leaves it in its build directory);
- a PC in RAM is native or viper code loaded from a .mpy: the board lists
  the start of every such function in the modules it imported (the code
  pointer of each function object), and a sample belongs to the nearest
  start below it.

    .venv/bin/python bench/pico_profile.py [--keep-n 3000] [--asyncio-n 3000] [--elf PATH]

The runner answers between its 10,000-instruction batches, at most one
request per 20 ms of wall time, so this is ~40 samples a wall second: a
few thousand per phase, enough for the top twenty functions, not for fine
detail. Samples in WFI (the chip asleep) are counted apart.
docs/performance.md ("On the emulated Pico") has what it showed.
"""

import argparse
import bisect
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host.paths import venv_bin  # noqa: E402
from keep_host.simctl import SimControl  # noqa: E402
from keep_host.vboard.pico import EMU_DIR, EmulatedPico  # noqa: E402
from pico_bench import deploy_firmware  # noqa: E402

ELF = EMU_DIR / "build" / "src" / "micropython" / "ports" / "rp2" / "build-RPI_PICO" / "firmware.elf"
FLASH = (0x10000000, 0x11000000)
RAM = (0x20000000, 0x20042000)

# Runs on the board. kernel_bench.py is imported (its main() is guarded),
# so the profiled workloads are the bench's own. The function table is
# every native/viper function object reachable from the loaded modules:
# mp_obj_fun_bc_t is {base, context, child_table, bytecode}, and for
# native code `bytecode` points at the machine code.
BOARD = """
import sys, machine, gc
import kernel_bench as kb
from keep import kernel
FB = type(kb.median)
seen = {}
def note(name, f):
    t = type(f)
    if t is not FB and t.__name__ == 'function' and id(f) >= 0x20000000:
        seen[machine.mem32[id(f) + 12] & ~1] = name
for mn in list(sys.modules):
    m = sys.modules[mn]
    if mn.split('.')[0] not in ('keep', 'runtime', 'asyncio'):
        continue
    for k, v in m.__dict__.items():
        note(mn + '.' + k, v)
        if type(v) is type:
            for a, w in v.__dict__.items():
                note(mn + '.' + k + '.' + a, w)
import json
print('NATIVE ' + json.dumps(sorted(seen.items())))
print('PHASE keep')
kb.keep_roundtrips(%(keep_n)d, %(keep_n)d)
print('PHASE asyncio')
kb.asyncio_roundtrips(%(aio_n)d, 10, 10)
print('PHASE asyncio-fresh')
for i in range(20):
    kb.asyncio_roundtrips(200, 200, 1)
print('PHASE end')
"""


# Board phases as the board prints them: Keep's round trips, asyncio's over
# a whole collection cycle (3,000 after a collection), and asyncio's first
# 200 after a collection, twenty times (each after 51 warm-up round trips).
PHASES = ("keep", "asyncio", "asyncio-fresh")


def sample(pico, until, phases):
    """(phase, pc, lr, waiting) samples until `until` is set."""
    out = []
    with SimControl("127.0.0.1", pico.sim_ctl_port) as ctl:
        while not until.is_set():
            r = ctl.call("cpu")
            out.append((phases[-1], r["pc"], r["lr"], r["waiting"]))
    return out


def symbolise(addrs, elf, native):
    """{addr: name}: flash through addr2line, RAM through the native table."""
    names = {}
    flash = sorted(a for a in addrs if FLASH[0] <= a < FLASH[1])
    if flash and elf.exists():
        res = subprocess.run(["arm-none-eabi-addr2line", "-f", "-e", str(elf)]
                             + [hex(a) for a in flash], capture_output=True, text=True, check=True)
        lines = res.stdout.splitlines()
        for i, a in enumerate(flash):
            names[a] = lines[2 * i]
    starts = [s for s, _ in native]
    for a in addrs:
        if a in names:
            continue
        if RAM[0] <= a < RAM[1]:
            i = bisect.bisect_right(starts, a) - 1
            names[a] = "native " + native[i][1] if i >= 0 else "RAM code (unknown)"
        elif a < 0x4000:
            names[a] = "boot ROM"
        else:
            names[a] = hex(a)
    return names


def report(samples, names, top):
    for phase in PHASES:
        got = [s for s in samples if s[0] == phase]
        busy = [s for s in got if not s[3]]
        print(f"\n== {phase}: {len(got)} samples, {len(got) - len(busy)} asleep")
        if not busy:
            continue
        by_fn = Counter(names[s[1]] for s in busy)
        for name, n in by_fn.most_common(top):
            print(f"  {100 * n / len(busy):5.1f} %  {name}")
        native = sum(n for name, n in by_fn.items() if name.startswith("native "))
        print(f"  native/viper code in RAM: {100 * native / len(busy):.1f} %")
        # Who calls the busiest C functions (LR: exact for a leaf, the
        # caller's caller once the function has pushed LR and called on).
        print("  callers (LR) of the top five:")
        for name, n in by_fn.most_common(5):
            lrs = Counter(names[s[2] & ~1] for s in busy if names[s[1]] == name)
            callers = ", ".join(f"{c} {100 * m / n:.0f}%" for c, m in lrs.most_common(4))
            print(f"    {name}: {callers}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep-n", type=int, default=3000)
    ap.add_argument("--asyncio-n", type=int, default=3000)
    ap.add_argument("--elf", type=Path, default=ELF)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--samples", type=Path, default=Path("build") / "pico_profile.json",
                    help="where the raw samples and the native table are kept")
    ap.add_argument("--report-only", action="store_true",
                    help="name and report the samples of --samples again (another --elf)")
    args = ap.parse_args(argv)
    if args.report_only:
        saved = json.loads(args.samples.read_text())
        return show(saved["samples"], saved["native"], args)
    if not args.elf.exists():
        print(f"(no {args.elf}: flash addresses stay numbers; build it with "
              "emu/rp2040/build_firmware.py or pass --elf)")
    with tempfile.TemporaryDirectory(prefix="keep-pico-prof-") as tmp, \
            EmulatedPico(Path(tmp) / "flash") as pico:
        print(deploy_firmware(pico.url).summary(), flush=True)
        script = BOARD % {"keep_n": args.keep_n, "aio_n": args.asyncio_n}
        proc = subprocess.Popen([str(venv_bin("mpremote")), "connect", pico.url, "fs", "cp",
                                 str(HERE / "kernel_bench.py"), ":kernel_bench.py", "+",
                                 "exec", script], stdout=subprocess.PIPE, text=True)
        phases = ["start"]
        native = []
        done = threading.Event()
        result = {}

        def sampler():
            result["samples"] = sample(pico, done, phases)

        t = threading.Thread(target=sampler)
        t0 = time.monotonic()
        for line in proc.stdout:
            if line.startswith("NATIVE "):
                native = json.loads(line[7:])
            elif line.startswith("PHASE "):
                phases.append(line.split()[1])
                if phases[-1] == "keep":
                    t.start()
                elif phases[-1] == "end":
                    break
            else:
                print(line, end="")
        done.set()
        t.join()
        proc.wait()
        print(f"profiled in {time.monotonic() - t0:.0f} s wall")
    samples = result["samples"]
    args.samples.parent.mkdir(parents=True, exist_ok=True)
    args.samples.write_text(json.dumps({"samples": samples, "native": native}))
    return show(samples, native, args)


def show(samples, native, args):
    names = symbolise({s[1] for s in samples} | {s[2] & ~1 for s in samples}, args.elf, native)
    report(samples, names, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
