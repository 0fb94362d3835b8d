"""docs/tradeoff.md and its plots, generated from bench/results.json.

bench/tradeoff.py calls write_doc() after a run (`make tradeoff`); run this
file alone to regenerate the page from the figures already in the file.
Every number on the page comes from bench/results.json; the text around
them says what was measured, how, and where model and measurement part.
"""

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "tradeoff.md"
IMG = ROOT / "docs" / "img"
OPS = ("gpio_toggle", "gpio_read", "uart_write", "uart_read", "flash_read", "flash_program",
       "chaos_mix")


def _f(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and (abs(v) >= 1e5 or (v and abs(v) < 1e-3)):
        return f"{v:.3g}"
    return f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}"


def _g(v):
    """A figure with 7 significant digits at most (ratios near 1 need them)."""
    if v is None or isinstance(v, str):
        return "–" if v is None else v
    return f"{v:.7g}"


def _ci(v):
    return f"[{_g(v[0])}, {_g(v[1])}]" if v else "–"


def _sides(r, *keys):
    """[(suffix, label)] of the targets (unix port, emulated Pico) for which
    r has every figure in keys."""
    return [(s, "unix port" if not s else "emulated Pico") for s in ("", "_pico")
            if all(r.get(k + s) is not None for k in keys)]


def _save(plt, fig, name, caption, out):
    """Write one plot under IMG and list it in out as (file, caption)."""
    fig.tight_layout()
    fig.savefig(IMG / name, dpi=100)
    plt.close(fig)
    out.append((name, caption))


def plots(r):
    """The three plots; returns [(file, caption)] of those it could draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    IMG.mkdir(parents=True, exist_ok=True)
    cost = r.get("tradeoff_cost", {})
    targets = [(t, cost[t]) for t in ("unix", "pico") if t in cost]
    if targets:
        fig, axes = plt.subplots(1, len(targets), figsize=(6 * len(targets), 4), squeeze=False)
        for ax, (t, c) in zip(axes[0], targets, strict=True):
            ops = [o for o in OPS if o in c["us"]["keep"]]
            x = range(len(ops))
            ax.bar([i - 0.2 for i in x], [c["us"]["keep"][o] for o in ops], 0.4, label="Keep")
            ax.bar([i + 0.2 for i in x], [c["us"]["mono"][o] for o in ops], 0.4,
                   label="monolithic")
            ax.set_xticks(list(x), ops, rotation=30, ha="right")
            ax.set_yscale("log")
            ax.set_ylabel("µs per op (log)")
            ax.set_title("unix port" if t == "unix" else "emulated Pico (125 MHz)")
            ax.legend()
        _save(plt, fig, "tradeoff_cost.png", "Time per operation, Keep and monolithic", out)
    sides = _sides(r, "t_r_ms", "t_s_ms")
    if sides:
        fig, ax = plt.subplots(figsize=(6, 4))
        lam = [10 ** (e / 10) for e in range(-40, 41)]  # faults per hour
        for s, label in sides:
            tr, ts = r["t_r_ms" + s], r["t_s_ms" + s]
            ax.plot(lam, [(1 + x / 3.6e6 * tr) / (1 + x / 3.6e6 * ts) for x in lam], label=label)
        ax.set_xscale("log")
        ax.set_xlabel("failure rate λ (faults per hour)")
        ax.set_ylabel("(1 + λ·t_r) / (1 + λ·t_s)")
        ax.set_title("Availability ratio for the measured t_s and t_r")
        ax.legend()
        _save(plt, fig, "tradeoff_availability.png", "Availability ratio against λ", out)
    sides = _sides(r, "p_ci95")
    if sides:
        fig, ax = plt.subplots(figsize=(6, 4))
        nl = [10 ** (e / 10) for e in range(0, 51)]
        for s, label in sides:
            p, q = r["p_system_down_per_invocation_monolithic" + s], \
                r["q_system_down_per_invocation_keep" + s]
            # log10 of the ratio: the ratio itself overflows a float past N·L ~ 10^4
            ax.plot(nl, [x * math.log10((1 - q) / (1 - p)) for x in nl],
                    label=f"{label}: measured p, q")
            qh, pl = r["q_ci95" + s][1], r["p_ci95" + s][0]
            ax.plot(nl, [x * math.log10((1 - qh) / (1 - pl)) for x in nl], "--",
                    label=f"{label}: q high, p low (95 %)")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("N·L (driver invocations)")
        ax.set_ylabel("log10 of ((1 − q)/(1 − p))^(N·L)")
        ax.set_title("Reliability ratio, Keep over monolithic")
        ax.legend(fontsize=8)
        _save(plt, fig, "tradeoff_reliability.png", "Reliability ratio against N·L", out)
    return out


def cost_table(r):
    cost = r.get("tradeoff_cost", {})
    if "unix" not in cost:
        return ["(no cost figures yet: run `make tradeoff`)", ""]
    u, p, cg = cost["unix"], cost.get("pico"), cost.get("callgrind")
    head = "| op | unix Keep µs | unix mono µs | ratio | Pico Keep µs | Pico mono µs | ratio " \
           "| instr Keep | instr mono | ratio | L1 miss Keep | L1 miss mono | heap B Keep/mono " \
           "(unix; Pico) |"
    lines = [head, "|" + "---|" * 13]
    for op in u["ops"]:
        row = [op, _f(u["us"]["keep"][op], 1), _f(u["us"]["mono"][op], 1),
               _f(r.get(f"tradeoff_op_ratio_{op}"))]
        if p:
            row += [_f(p["us"]["keep"][op], 0), _f(p["us"]["mono"][op], 0),
                    _f(r.get(f"tradeoff_op_ratio_{op}_pico"))]
        else:
            row += ["–"] * 3
        if cg:
            k, m = cg["keep"][op], cg["mono"][op]
            row += [f"{k['instr']:,.0f}", f"{m['instr']:,.0f}",
                    _f(r.get(f"tradeoff_instr_ratio_{op}")),
                    f"{k['i1_miss'] + k['d1_miss']:,.0f}", f"{m['i1_miss'] + m['d1_miss']:,.0f}"]
        else:
            row += ["–"] * 5
        heap = f"{_f(u['alloc']['keep'][op], 0)}/{_f(u['alloc']['mono'][op], 0)}"
        if p:
            heap += f"; {_f(p['alloc']['keep'][op], 0)}/{_f(p['alloc']['mono'][op], 0)}"
        lines.append("| " + " | ".join(row + [heap]) + " |")
    return lines + [""]


def fault_table(r):
    rows = [("p: system down per driver invocation, monolithic",
             "p_system_down_per_invocation_monolithic", "p_ci95"),
            ("q: system down per driver invocation, Keep", "q_system_down_per_invocation_keep",
             "q_ci95"),
            ("t_s: bug to the driver's next good reply, Keep (ms)", "t_s_ms", "t_s_ms_ci95"),
            ("t_r: reset to `kernel running`, monolithic (ms)", "t_r_ms", "t_r_ms_ci95"),
            ("reliability ratio at N·L = 1000", "reliability_ratio", "reliability_ratio_ci95"),
            ("availability ratio at λ = 1 fault per hour", "availability_ratio",
             "availability_ratio_ci95")]
    lines = ["| figure | unix port | 95 % interval | emulated Pico | 95 % interval |",
             "|---|---|---|---|---|"]
    for label, key, ci in rows:
        lines.append(f"| {label} | {_g(r.get(key))} | {_ci(r.get(ci))} | "
                     f"{_g(r.get(key + '_pico'))} | {_ci(r.get(ci + '_pico'))} |")
    return lines + [""]


def tcb_table(r):
    from tradeoff_tcb import OTHERS, TRUSTED_KEEP

    parts = r.get("tcb_parts")
    if not parts:
        return ["(no trusted-core figures yet: run `make tradeoff`)", ""]
    lines = ["| part | code lines | bytes on the Pico (.mpy) | trusted in Keep | trusted "
             "monolithic |", "|---|---|---|---|---|"]
    for name, p in parts.items():
        keep = "yes" if name in TRUSTED_KEEP else "no"
        mono = "not run" if name == "supervisor" else "yes"
        if name == "monolithic seam":
            keep = "not run"
        lines.append(f"| {name} | {p['lines']:,} | {p['bytes']:,} | {keep} | {mono} |")
    lines += ["", f"Keep's trusted core: **{r['tcb_code_lines']:,} code lines** "
              f"({r['tcb_share']:.0%} of the code lines the board runs; "
              f"{r['tcb_bytes']:,} bytes, {r['tcb_share_bytes']:.0%}); the monolithic build "
              f"trusts all of its **{r['tcb_code_lines_monolithic']:,}** lines "
              f"({r['tcb_bytes_monolithic']:,} bytes).", "",
              "| system | trusted kernel, lines | source |", "|---|---|---|",
              f"| Keep (kernel + runtime + HAL + supervisor) | {r['tcb_code_lines']:,} "
              "| this page (Python) |"]
    for name, n, src in OTHERS:
        lines.append(f"| {name} | {n:,} | {src} |")
    return lines + [""]


def parting(r):
    """Where the seed's cost model and the measurement part, from the figures."""
    def ratio(op, sfx):
        return r.get(f"tradeoff_op_ratio_{op}{sfx}")

    out = ["**Where the model and the measurement part.** The seed predicts Keep costs",
           "more per operation, and it does on every op here except where noted; how",
           "much depends on how much work the op does besides the IPC."]
    for sfx, where in (("", "the unix port"), ("_pico", "the emulated Pico")):
        rs = {op: ratio(op, sfx) for op in OPS if ratio(op, sfx) is not None}
        if not rs:
            continue
        lo, hi = min(rs, key=rs.get), max(rs, key=rs.get)
        out.append(f"On {where} the ratio runs from {rs[lo]:.2f} ({lo}) to {rs[hi]:.2f} ({hi}).")
        below = [op for op, v in rs.items() if v < 1]
        if below:
            out.append(f"Below 1 on {where}: {', '.join(below)} (a timing the host's load moved"
                       " more than the builds differ, when it is the unix port).")
    out += ["`flash_program` includes waiting for the chip, the same in both builds: as",
            "far as a chip model takes program time (the unix port's NOR model does) the",
            "wait dilutes the ratio towards 1. Instructions per op (callgrind) count CPU",
            "work, not waits or the host's load.", ""]
    return out


def render(r, pics=()):
    w = r.get("tradeoff_wall_s")
    out = [
        "# The microkernel trade-off, measured",
        "",
        "<!-- Generated by bench/tradeoff.py (`make tradeoff`) from bench/results.json;"
        " do not edit. -->",
        "",
        "Keep runs drivers as server tasks behind IPC, under a supervisor that restarts",
        "them. The *monolithic build* of the same app (`keep deploy --monolithic`,",
        "firmware/clients/direct.py) keeps the app table, the HAL, the client API and",
        "the drivers' own code, and calls each driver in its caller's task: no server",
        "tasks, no IPC, no supervisor, no budgets; any fault reboots the board. The",
        "difference between the two is the price and the yield of isolation. Every",
        "figure below was measured in one run of `make tradeoff`"
        + (f" ({w:.0f} s of wall time on the machine that made this page)." if w else "."),
        "",
        "## Cost per operation",
        "",
        "bench/tradeoff_mp.py boots each build on the test rig (jumpered pins, looped",
        "UART at 1 Mbaud, NOR flash) and times each operation through the stock client",
        "libraries, in one process, the builds alternating. The emulated Pico's time is",
        "its emulated 125 MHz clock, which the host's load does not move: it is the",
        "figure to trust. The unix port's timings move with the host's load (the median",
        "of 5 alternating rounds softens, not removes, that). Instructions and L1 misses",
        "per op are callgrind's on the unix port: the difference of two runs that",
        "differ only in how often the op ran, divided by the extra runs. They repeat",
        "to a few per cent between runs, not exactly: the supervisor's and",
        "`direct.system`'s wake-ups come by the clock, and under valgrind's slowdown",
        "they fall on different ops. A small L1-miss figure is within that noise (it",
        "can come out negative).",
        "",
        *cost_table(r),
        "**Working set.** The seed argues IPC costs more than its instruction count",
        "because it touches more code and data. The proxy on the unix port is L1",
        "misses per op in valgrind's cache model of this host's caches (instruction",
        "plus data misses): code and data an op touches that were not touched recently.",
        "On the Pico there is no cache to miss (SRAM is single-cycle; the XIP cache",
        "holds the VM's C code, not the Python bytecode and objects, which are in",
        "SRAM), so the working-set effect there is only what allocation costs: the",
        "heap bytes per op column (unix: `micropython.mem_total`; Pico: `gc.mem_alloc`",
        "with the GC off) is the data an op creates, which the collector later walks.",
        "The monolithic build allocates *more* per op: each call resumes the driver's",
        "server coroutine through two generator objects (`Client.call` and",
        "`Direct.serve`), where Keep's kernel reuses preallocated handles.",
        "",
        *parting(r),
        "## Faults: the same campaign on both builds",
        "",
        "bench/tradeoff_mp.py `faults` puts every driver behind a shim that raises in",
        "the driver, while it holds a request, for a seeded 1 % of its invocations",
        "(the model's buggy driver invocation). The workload calls gpio, uart and spi",
        "through the clients and handles `ServerError` as the stock apps do. In Keep",
        "the server dies with the request, its caller gets `E_DEAD` (an idempotent",
        "call is retried once), and the supervisor restarts it (back-off 0 here, flap",
        "detection off: isolation is measured, not policy). In the monolithic build",
        "the bug is the caller's exception, uncaught, and `clients.direct.system`",
        "reboots: a system down. p and q are system downs per driver invocation, with",
        "95 % Wilson intervals from the run lengths. t_s is measured on the board",
        "(ticks_us from the bug to that driver's next good reply). t_r is measured on",
        "the board too, by resetting it with the monolithic chaos app deployed and",
        "timing (in board seconds) until `keep: kernel running`; a board that does not",
        "come back within 30 board seconds is counted as 30 s of downtime and the run",
        "goes on (never a hang of the bench).",
        "",
        *fault_table(r),
        "The first run of this campaign on the emulated Pico found a bug in the",
        "boards' HAL: a restarted uart server opens its UART again, and the old",
        "object kept its place in the HAL's table of watched UARTs, so the fifth",
        "restart failed (`hal: too many UARTs with notify`) and the server could never",
        "start again. Fixed in firmware/hal/mach.py (tests/firmware/hal_uart_reopen.py).",
        "",
        "The reliability ratio `((1 − q)/(1 − p))^(N·L)` is how much likelier Keep is",
        "to get through N·L driver invocations without a system down."
        + (" With q measured as 0 its interval is set by q's upper bound (about 3.7 / the"
           " invocations run); the ratio then grows without bound in N·L, which is the"
           " model's point: isolation turns a per-call risk into none at the system level."
           if r.get("q_system_down_per_invocation_keep") == 0 else
           " Keep went down in this run (q > 0): see the campaign's raw figures"
           " (tradeoff_faults in bench/results.json) for which runs hung or died."),
        "The availability ratio `(1 + λ·t_r)/(1 + λ·t_s)` is close to 1 at realistic",
        "failure rates because both recoveries are short next to an hour; it matters",
        "when faults are frequent (see the plot) or t_r is long (a board with a slow",
        "boot, a deployment whose reboot loses state).",
        "",
        "## The trusted core",
        "",
        "What must be correct for a driver's fault to stay in the driver",
        "(bench/tradeoff_tcb.py says why each part is in or out). Code lines are",
        "lines holding code (no blanks, comments or docstrings); bytes are the",
        "armv6m .mpy files `keep deploy` copies for the chaos app.",
        "",
        *tcb_table(r),
        "Neither build's figure includes the MicroPython VM both run on (the same",
        "C firmware), and Keep's isolation is fault containment inside one",
        "interpreter, not memory protection: code that imports the kernel's modules",
        "and writes to them is not stopped. On this small app Keep's trusted core is",
        "most of the code on the board, because the drivers and the app are small",
        "next to the kernel; the TCB argument pays as drivers and apps grow, while",
        "the kernel stays the same size.",
        "",
    ]
    if r.get("tradeoff_errors"):
        out += ["## Not measured in the last run", "",
                "These parts failed; their figures above are from an earlier run, or missing:",
                ""] + [f"- `{e.splitlines()[0]}`" for e in r["tradeoff_errors"]] + [""]
    if pics:
        out += ["## Plots", ""]
        for f, cap in pics:
            out += [f"![{cap}](img/{f})", ""]
    out += ["## Reproduce", "", "```", "make tradeoff                                  "
            "# everything: results.json keys and this page",
            "python bench/tradeoff.py --no-pico --no-callgrind   # the unix figures only",
            "python bench/tradeoff.py --short                     # what `make test` runs",
            "```", ""]
    return "\n".join(out)


def write_doc(results=None, path=DOC):
    sys.path.insert(0, str(HERE))
    from resultsfile import load

    r = load() if results is None else results
    path.write_text(render(r, plots(r)))
    return path


if __name__ == "__main__":
    print(write_doc())
