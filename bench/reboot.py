"""Server restart versus whole-board reboot: the classic microkernel comparison.

`reboot_to_serving_ms`: from a reset of the virtual board (a fresh unix-port
process booting main.py, like a soft reset re-importing everything on a
board) until the same server answers a request again, asked over the
console channel (`keep call`). Compare `restart_latency_ms` (bench/chaos.py):
one server restarted while the rest of the board keeps running.

Availability for a fault rate λ: a design that recovers in t after each
fault is down λ·t of the time, so reboot-on-fault versus restart-the-server
costs (1 + λ·t_r)/(1 + λ·t_s) in downtime terms; bench reports it for
λ = one fault per hour.

    python bench/reboot.py [RUNS]
"""

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import abi  # noqa: E402
from keep_host.console import ConsoleClient  # noqa: E402
from keep_host.deploy import deploy  # noqa: E402
from keep_host.errors import KeepError  # noqa: E402
from keep_host.vboard import VirtualBoard  # noqa: E402
from resultsfile import load, merge  # noqa: E402

SERVER = "gpio"
OP_UNKNOWN = 250  # any reply, even E_NOTSUP, proves the server is serving


def serving(client):
    try:
        rc, _ = client.call(SERVER, OP_UNKNOWN)
    except KeepError:
        return False
    return rc == abi.E_NOTSUP


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    runs = int(argv[0]) if argv else 5
    times = []
    with tempfile.TemporaryDirectory(prefix="keep-reboot-") as tmp:
        vb = VirtualBoard(tmp)
        vb.start()
        try:
            deploy(vb.url, "chaos", "unix")
            with ConsoleClient(vb.url, timeout=0.2) as client:
                deadline = time.monotonic() + 20
                while not serving(client):
                    if time.monotonic() > deadline:
                        raise SystemExit("reboot bench: the gpio server never answered")
                for _ in range(runs):
                    boots = vb.boots
                    t0 = time.monotonic()
                    vb.reset(wait=False)
                    # Ask only once the new process is up, so the old one
                    # can never be the one that answers.
                    while vb.boots == boots:
                        if time.monotonic() - t0 > 20:
                            raise SystemExit("reboot bench: the board did not reboot")
                        time.sleep(0.001)
                    while not serving(client):
                        if time.monotonic() - t0 > 20:
                            raise SystemExit("reboot bench: no answer 20 s after reset")
                    times.append((time.monotonic() - t0) * 1000)
        finally:
            vb.stop()
    times.sort()
    t_r = times[len(times) // 2]
    t_s = load().get("restart_latency_ms")
    fig = {"reboot_to_serving_ms": round(t_r, 1), "reboot_runs": runs}
    if t_s:
        lam = 1 / 3_600_000  # one fault per hour, per ms
        fig["availability_ratio_reboot_vs_restart"] = round((1 + lam * t_r) / (1 + lam * t_s), 7)
        fig["reboot_vs_restart_time_ratio"] = round(t_r / t_s)
    merge(fig)
    for k, v in fig.items():
        print(f"{k:40} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
