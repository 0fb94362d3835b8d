"""The trusted core: code lines and bytes on the board, per part, both builds.

What must be correct for a driver's fault to stay in the driver:
- Keep: the kernel (it contains the fault and keeps the other tasks
  running), the runtime around it (boot, the tick and idle hooks, the
  console channel, the trace drain: they run in the kernel's loop, where
  an exception stops the kernel), the HAL (hal.poll and hal.idle run in
  those hooks) and the supervisor (it restarts the driver; if it faults
  the board reboots). Drivers, clients and apps are outside: their faults
  are contained.
- Monolithic: everything that runs on the board. A fault anywhere is the
  system's (clients.direct.system reboots).

Neither count includes the MicroPython VM (C, the same firmware image in
both builds) that everything runs on: Keep's isolation is fault
containment by the kernel inside one interpreter, not memory protection
(the RP2040 has no MPU that MicroPython uses), so a task that imports
keep.tcb and scribbles on it is not stopped. The figures are for bugs
that raise, which is what the fault campaign injects.

Code lines: lines holding code, after removing blank lines, comments and
docstrings (the files are 35-50 % comments by the style guide). Bytes:
the .mpy each module compiles to for the Pico (armv6m), as `keep deploy`
copies them, from the chaos app's deploy (it has every driver).
"""


from code_lines import count  # bench/ is on sys.path: scripts run from there

# board path prefix (or file) -> part; the first match wins
PARTS = (
    ("keep/boot", "runtime"), ("keep/bootload", "runtime"), ("keep/console", "runtime"),
    ("keep/conreq", "runtime"), ("keep/drain", "runtime"), ("keep/wire", "runtime"),
    ("keep/inject", "runtime"), ("runtime/", "runtime"), ("main.py", "runtime"),
    ("app_table", "runtime"),
    ("keep/", "kernel"),
    ("servers/supervisor", "supervisor"),
    ("servers/", "drivers"),
    ("hal/", "hal"),
    ("clients/direct", "monolithic seam"),
    ("clients/", "clients"),
    ("apps/", "apps"),
)
TRUSTED_KEEP = ("kernel", "runtime", "hal", "supervisor")
NOT_RUN = {"keep": ("monolithic seam",), "mono": ("supervisor",)}

# Published or counted figures for the comparison (docs/tradeoff.md).
OTHERS = (
    ("seL4 (verified kernel, ARM)", 8700 + 600,
     "8,700 lines of C and 600 of assembler: Klein et al., \"seL4: Formal Verification of "
     "an OS Kernel\", SOSP 2009, "
     "https://www.sigops.org/s/conferences/sosp/2009/papers/klein-sosp09.pdf"),
    ("Hubris kernel (Oxide, Rust)", 3164,
     "non-blank, non-comment lines of sys/kern/src (16 files, 5,782 lines in all), "
     "github.com/oxidecomputer/hubris at 4c371f01d1d5 (2026-08-20), counted for this page"),
)


def part_of(name):
    for prefix, part in PARTS:
        if name.startswith(prefix):
            return part
    return "other"


def code_lines(source):
    """Lines of Python source that hold code: no blank, comment or docstring
    line (bench/code_lines.py's count, the kernel_code_lines rules)."""
    return count(source)


def measure(board="rpi_pico"):
    """{part: {"lines": n, "bytes": n, "files": n}} of the chaos app's deploy."""
    from keep_host.demo import RIG
    from keep_host.deploy import build, gather

    plan = build("chaos", board, wiring=RIG)  # rewired for the board's rig
    got = gather("chaos", board, wiring=RIG)
    srcs = got.modules
    parts = {}
    for name, blob in plan.files.items():
        src = srcs.get(name[:-4] + ".py") if name.endswith(".mpy") else None
        if name == "main.py":
            src = got.root["main.py"]
        text = src.read_text() if src is not None else None
        if name == "app_table.mpy":
            text = None  # generated data, no code lines
        p = parts.setdefault(part_of(name), {"lines": 0, "bytes": 0, "files": 0})
        p["lines"] += code_lines(text) if text else 0
        p["bytes"] += len(blob)
        p["files"] += 1
    return parts


def figures(parts):
    """The results keys: tcb_code_lines, tcb_share and the same for monolithic."""
    run = {b: {k: v for k, v in parts.items() if k not in NOT_RUN[b]} for b in NOT_RUN}
    total = {b: {u: sum(p[u] for p in run[b].values()) for u in ("lines", "bytes")} for b in run}
    keep = {u: sum(parts[k][u] for k in TRUSTED_KEEP if k in parts) for u in ("lines", "bytes")}
    return {
        "tcb_code_lines": keep["lines"],
        "tcb_bytes": keep["bytes"],
        "tcb_share": round(keep["lines"] / total["keep"]["lines"], 3),
        "tcb_share_bytes": round(keep["bytes"] / total["keep"]["bytes"], 3),
        "tcb_code_lines_monolithic": total["mono"]["lines"],
        "tcb_bytes_monolithic": total["mono"]["bytes"],
        "tcb_share_monolithic": 1.0,
        "tcb_parts": parts,
    }
