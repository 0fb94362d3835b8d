"""docs/getting-started.md from docs/getting-started.in.md and a real run.

    .venv/bin/python docs/getting_started.py            # run the commands, write the doc
    .venv/bin/python docs/getting_started.py --pico     # also the emulated Pico's demo (minutes)
    .venv/bin/python docs/getting_started.py --render   # only fill the template again

Every command output the guide shows comes from running that command here,
as a user would (the `keep` console script, a `keep vboard` of its own in a
temporary folder): the outputs go to docs/getting-started.outputs.json,
and the guide is the template with `{{name}}` replaced by them. The Pico's
demo takes minutes of wall time, so its outputs are kept from the last
`--pico` run unless asked for.

tests/host/test_getting_started.py fails when the guide drifts: when it is
not the template filled with these outputs, when a figure that does not
depend on the run (heap estimates, file counts, check results) differs from
what the commands say now, or when an output's format changed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATE = HERE / "getting-started.in.md"
DOC = HERE / "getting-started.md"
OUTPUTS = HERE / "getting-started.outputs.json"
KEEP = [sys.executable, "-m", "keep_host"]
HOME = "/home/me/keep"  # what the temporary folder of the run is shown as
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def keep(*argv, cwd=None, check=True):
    """`keep ARGV` -> its stdout and stderr as one text (what a terminal shows)."""
    env = dict(os.environ, COLUMNS="100")
    res = subprocess.run([*KEEP, *argv], cwd=cwd, capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise SystemExit(f"keep {' '.join(argv)} failed ({res.returncode}):\n{res.stderr}")
    return (res.stdout + res.stderr).rstrip("\n")


def shown(cmd, out):
    return f"$ {cmd}\n{out}"


def elide(lines, head, tail=0):
    """The first `head` and last `tail` lines, with `...` between."""
    if len(lines) <= head + tail + 1:
        return lines
    return lines[:head] + ["..."] + (lines[-tail:] if tail else [])


def pick(lines, patterns):
    """The first line matching each pattern, in their order in `lines`."""
    found = set()
    out = []
    for ln in lines:
        for i, p in enumerate(patterns):
            if i not in found and re.search(p, ln):
                found.add(i)
                out.append(ln)
                break
    return out


def ipc_loop(lines):
    """Four lines of one request: chaos sends to flaky, flaky takes it, runs, replies."""
    for i in range(len(lines) - 3):
        w = lines[i:i + 4]
        if (re.search(r"chaos\s+send -> flaky", w[0]) and re.search(r"flaky\s+recv <- chaos", w[1])
                and re.search(r"flaky\s+switch", w[2]) and re.search(r"flaky\s+reply -> chaos", w[3])):
            return w
    return []


def demo_block(text, head):
    """A demo run, shortened: its first lines, then the summary."""
    lines = text.splitlines()
    cut = next(i for i, ln in enumerate(lines) if ln.startswith("chaos demo:"))
    top = [ln for ln in lines[:cut] if ln.strip() and "switches" not in ln]
    return "\n".join(elide(top, head) + [""] + lines[cut:])


def watch(vb, url, *argv, cwd=None):
    """`keep monitor --port URL ARGV` from the board's boot on: the monitor
    starts, then the board is reset (SIGUSR1 to `keep vboard`, the reset
    button), so the session begins at the kernel's first record."""
    from keep_host import portlock
    from keep_host.boardtime import Deadline

    mon = subprocess.Popen([*KEEP, "monitor", "--port", url, *argv], cwd=cwd, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ready = Deadline(10)
    while portlock.holder(url) is None and mon.poll() is None and not ready.expired():
        ready.clock.sleep(0.05)
    vb.send_signal(signal.SIGUSR1)
    return mon.communicate()[0].rstrip("\n")


def run_virtual(out):
    """Part A: a virtual board by hand, the commands of steps 1-5, and keep demo."""
    tmp = Path(tempfile.mkdtemp(prefix="keep-gs-"))
    try:
        vb = subprocess.Popen([*KEEP, "vboard", "--flash", "build/flash"], cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = vb.stdout.readline().strip()
            info = vb.stdout.readline().strip()
            said = vb.stderr.readline().strip()
            out["vboard"] = shown("keep vboard --flash build/flash", f"{url}\n{info}\n{said}")
            out["url"] = url
            out["check_chaos"] = shown("keep check chaos", keep("check", "chaos"))
            dep = keep("deploy", "--port", url, "--app", "chaos", "--no-progress")
            lines = dep.splitlines()
            out["deploy"] = shown(f"keep deploy --port {url} --app chaos",
                                  "\n".join(elide(lines, 2, 3)))
            out["deploy_files"] = re.search(r"(\d+) uploaded", lines[-1]).group(1)
            again = keep("deploy", "--port", url, "--app", "chaos", "--no-progress")
            out["redeploy"] = re.search(r"\d+ uploaded, \d+ up to date", again).group(0)
            mon = watch(vb, url, "--plain", "--duration", "6").splitlines()
            out["monitor_events"] = "\n".join(pick(mon, [
                r"kernel\s+boot ", r"supervisor\s+state ", r"gpio\s+state ", r"kernel\s+log: boot",
                r"flaky\s+log: flaky: bug", r"flaky\s+fault ", r"supervisor\s+log: supervisor: flaky",
                r"flaky\s+restart "]))
            out["monitor_loop"] = "\n".join(ipc_loop(mon))
            watch(vb, url, "--duration", "10", "--record", "session.bin", cwd=tmp)
            out["export"] = keep("trace", "export", "session.bin", "--to", "perfetto",
                                 "-o", "session.json", cwd=tmp)
            out["tasks"] = shown(f"keep tasks --port {url}", keep("tasks", "--port", url))
            out["call"] = shown(f"keep call --port {url} flaky 1 01000000aabb",
                                keep("call", "--port", url, "flaky", "1", "01000000aabb",
                                     check=False))
            out["fault"] = shown(f"keep fault --port {url} uart memory",
                                 keep("fault", "--port", url, "uart", "memory"))
        finally:
            vb.send_signal(signal.SIGINT)
            vb.wait()
        for k, v in out.items():
            out[k] = v.replace(str(tmp), HOME)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    demo = keep("demo", "--seconds", "8")
    out["demo"] = demo_block(demo, 12)
    out["demo_heap_kb"] = str(round(int(re.search(r"demo_peak_heap_bytes=(\d+)", demo).group(1))
                                    / 1024))


def run_checks(out):
    """The `keep check` outputs of parts B and C (no board needed)."""
    out["check_esp32"] = shown("keep check chaos --board esp32_devkitc",
                               keep("check", "chaos", "--board", "esp32_devkitc", check=False)
                               .replace(str(ROOT), "..."))
    out["check_chaos_esp32"] = shown("keep check chaos_esp32", check_chaos_esp32())
    out["check_pico"] = shown("keep check chaos --board rpi_pico",
                              keep("check", "chaos", "--board", "rpi_pico"))


def esp32_manifest():
    """The chaos_esp32 app.toml the guide tells the reader to write."""
    m = re.search(r"```toml\n(name = \"chaos_esp32\".*?)```", TEMPLATE.read_text(), re.S)
    return m.group(1)


def check_chaos_esp32():
    """`keep check chaos_esp32` on the guide's copy of chaos, made in a
    temporary copy of the project's firmware (the checkout stays as it is)."""
    tmp = Path(tempfile.mkdtemp(prefix="keep-gs-"))
    try:
        app = tmp / "chaos_esp32"
        shutil.copytree(ROOT / "firmware" / "apps" / "chaos", app,
                        ignore=shutil.ignore_patterns("__pycache__"))
        # Outside firmware/, the app's own modules are named from its folder
        # (and `main` would be the board's main.py).
        (app / "main.py").rename(app / "chaos_main.py")
        (app / "app.toml").write_text(esp32_manifest().replace("apps.chaos_esp32.main:", "chaos_main:")
                                      .replace("apps.chaos_esp32.", ""))
        return keep("check", str(app))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_pico(out):
    demo = keep("demo", "--board", "rpi_pico", "--seconds", "20")
    out["demo_pico"] = demo_block(demo, 0)
    out["demo_pico_heap_kb"] = str(round(int(re.search(r"demo_peak_heap_bytes=(\d+)", demo)
                                             .group(1)) / 1024))


def render(outputs, template=None):
    text = template if template is not None else TEMPLATE.read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(outputs))
    if missing:
        raise SystemExit(f"no output for {', '.join(missing)}: run docs/getting_started.py")
    return PLACEHOLDER.sub(lambda m: outputs[m.group(1)], text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pico", action="store_true", help="also run the emulated Pico's demo")
    ap.add_argument("--render", action="store_true", help="only fill the template again")
    args = ap.parse_args()
    outputs = json.loads(OUTPUTS.read_text()) if OUTPUTS.exists() else {}
    if not args.render:
        run_virtual(outputs)
        run_checks(outputs)
        if args.pico:
            run_pico(outputs)
        OUTPUTS.write_text(json.dumps(outputs, indent=1, sort_keys=True) + "\n")
    DOC.write_text(render(outputs))
    print(f"wrote {DOC.relative_to(ROOT)} from {TEMPLATE.name} and {OUTPUTS.name}")


if __name__ == "__main__":
    main()
