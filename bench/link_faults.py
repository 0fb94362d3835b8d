"""Link faults against a real virtual board: the monitor's decoder vs. damage.

A virtual board runs the kernel with chatty tasks (text lines on stdout,
log lines, IPC and sleeps in the trace, drained as frames), while its
console link drops, flips and duplicates bytes (VirtualBoard link faults).
The host reads the damaged stream from the socket and decodes it with the
monitor's own decoder (keep_host.trace).

The damage is known exactly: the board's console tap records the clean
bytes, and LinkFaults applied byte by byte with the same seed replays the
same random draws, so each clean byte's fate (kept, dropped, flipped,
duplicated) is known. The replay is checked: it must reproduce, byte for
byte, what the host received. From that:

- link_fault_frames / _damaged: frames the board sent, and those a fault hit.
- link_fault_recovered_frames: undamaged frames decoded right after a
  damaged one (the decoder resynchronised within one frame).
- link_fault_unrecovered: undamaged frames the decoder did not deliver
  (goal 0: a damaged frame costs only itself).
- link_fault_damaged_accepted: damaged frames delivered as good (goal 0).
- link_fault_losses_counted: damaged frames the decoder reported as lost or
  corrupt (frames_lost + frames_corrupt), to compare with _damaged.
- link_fault_garbage_shown: text lines shown that are neither a line the
  board printed nor explained by damage to *text* bytes (goal 0). Text
  carries no checksum, so a flipped text byte shows as a changed character
  (link_fault_text_lines_damaged counts those); what must never happen is a
  frame byte leaking into text. The one allowed truncation: the splitter's
  damage rule may take the first byte after a damaged frame as a frame byte,
  so a line may lose its first character (docs/reliability.md).

    python bench/link_faults.py [SECONDS] [SPEC] [SEED]
    (default 8 s, drop=0.0005,flip=0.0005,dup=0.0005, seed 1)
"""

import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "host_tools"))
sys.path.insert(0, str(HERE))

from keep_host import abi  # noqa: E402
from keep_host.paths import FIRMWARE  # noqa: E402
from keep_host.trace import Decoder, Splitter  # noqa: E402
from keep_host.trace import frame as fr  # noqa: E402
from keep_host.vboard import LinkFaults, VirtualBoard  # noqa: E402
from resultsfile import RESULTS, merge  # noqa: E402

SPEC = "drop=0.0005,flip=0.0005,dup=0.0005"
END = b"LINKTEST END"

MAIN_PY = """\
# link-fault board: chatty tasks, the trace drained to the console
import sys, time
from keep import kernel
from runtime import drain

sys.stdin.readline()  # the host says go once its link faults are set
kernel.boot(max_msg=32, trace_records=256)
drain.reset(sys.stdout.buffer)


async def server(k):
    while True:
        m = await k.recv()
        await k.reply(m.call, 0, m.body[:m.len])


async def chatty(k, name, srv, period_ms):
    n = 0
    while True:
        print("%s says line %d of the link test" % (name, n))
        await k.log("%s log %d" % (name, n))
        await k.send(srv, n & 0xFF, b"ping %d" % n)
        await k.sleep_ms(period_ms)
        n += 1


def idle(wait_ms):
    drain.drain()
    time.sleep_ms(1 if wait_ms < 0 or wait_ms > 1 else wait_ms)


srv = kernel.spawn(server, 1, "echo")
kernel.spawn(chatty, 2, "alpha", ("alpha", srv, 3))
kernel.spawn(chatty, 3, "beta", ("beta", srv, 5))
kernel.spawn(chatty, 3, "gamma", ("gamma", srv, 7))
kernel.idle_hook = idle
kernel.tick_hook = drain.drain
kernel.run(duration_ms=DURATION_MS)
while drain.drain(16):
    pass
print("LINKTEST END")
"""


def make_flash(flash, seconds):
    for d in ("keep", "runtime"):
        shutil.copytree(FIRMWARE / d, flash / d, ignore=shutil.ignore_patterns("__pycache__"))
    (flash / "main.py").write_text(MAIN_PY.replace("DURATION_MS", str(int(seconds * 1000))))


def run_board(seconds, spec, seed, flash):
    """Run the board; return (clean bytes the board sent, bytes the host got)."""
    make_flash(flash, seconds)
    with VirtualBoard(flash, heap="256K") as vb:
        host, port = vb.url[len("socket://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            got = bytearray()
            stop = threading.Event()

            def reader():
                s.settimeout(0.2)
                while not stop.is_set():
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    got.extend(chunk)

            time.sleep(0.3)
            th = threading.Thread(target=reader, daemon=True)
            th.start()
            vb.set_link_faults(spec, seed=seed)
            time.sleep(0.3)  # the pump applies the new faults before any output
            n0 = len(got)
            mark = vb.mark()
            vb.write(b"go\n")
            end = vb.wait_output(END, seconds + 30, since=mark)
            time.sleep(0.5)
            stop.set()
            th.join(2)
        clean = vb.output_since(mark)
        received = bytes(got[n0:])
    return clean, received, end - mark


def replay(clean, spec, seed):
    """Each clean byte's fate under the same seeded faults: (out bytes, fates)."""
    lf = LinkFaults.from_spec(spec, seed)
    out = bytearray()
    fate = bytearray(len(clean))  # 0 kept, 1 dropped, 2 flipped, 3 duplicated
    for i, b in enumerate(clean):
        o = lf.apply(bytes([b]))
        out += o
        fate[i] = 1 if not o else 3 if len(o) == 2 else 2 if o[0] != b else 0
    return bytes(out), fate


def clean_frames(clean):
    """(seq, start, end) of every frame in the clean stream."""
    out = []
    i = clean.find(bytes([abi.FRAME_START]))
    while i >= 0:
        j = i + 1
        while j < len(clean) and 0x80 <= clean[j] <= 0xBF:
            j += 1
        try:
            seq, recs = fr.decode_body(clean[i + 1:j])
            out.append((seq, i, j, bytes(recs)))
        except fr.FrameError:
            pass
        i = clean.find(bytes([abi.FRAME_START]), j)
    return out


def split(data):
    sp = Splitter()
    items = sp.feed(data) + sp.finish()
    return items, sp.counters


def text_only(clean, fate, frames):
    """The text bytes as they reached the host (frames cut out, text damage applied).

    Markers: NUL for a flipped text byte (a changed character), SOH before
    the first text byte after a damaged frame (the splitter's damage rule
    may take that byte as a frame byte, so it may be missing)."""
    out = bytearray()
    in_frame = bytearray(len(clean))  # 1 inside a frame, 2 inside a damaged one
    for _, a, b, _ in frames:
        in_frame[a:b] = (b"\x02" if any(fate[a:b]) else b"\x01") * (b - a)
    after_damage = False
    for i, b in enumerate(clean):
        if in_frame[i]:
            after_damage = in_frame[i] == 2
            continue
        if after_damage:
            out.append(1)
            after_damage = False
        f = fate[i]
        if f == 0:
            out.append(b)
        elif f == 3:
            out += bytes([b, b])
        elif f == 2:
            out.append(0)  # a flipped text byte: a changed character (marker)
    return bytes(out)


def measure(seconds=8.0, spec=SPEC, seed=1, workdir=None):
    tmp = Path(workdir or tempfile.mkdtemp(prefix="keep-linkfaults-"))
    flash = tmp / "flash"
    flash.mkdir(parents=True, exist_ok=True)
    clean, received, _ = run_board(seconds, spec, seed, flash)
    replayed, fate = replay(clean, spec, seed)
    # The host may still be short of the last bytes; the replay must agree on the prefix.
    aligned = replayed[:len(received)] == received and len(received) >= len(replayed) - 256
    frames = clean_frames(clean)
    items, counters = split(received)
    dec = Decoder()
    dec.feed(received)
    dec.finish()
    decoded = [(it[1], bytes(it[2])) for it in items if it[0] == "frame"]
    got_set = {sq for sq, _ in decoded}
    want = {sq: recs for sq, _, _, recs in frames}
    # A frame delivered with records other than the board's would be garbage
    # shown as events (the CRC let damage through): goal 0.
    accepted = sum(1 for sq, recs in decoded if want.get(sq) != recs)
    damaged = [any(fate[a:b]) for _, a, b, _ in frames]
    recovered = unrecovered = 0
    for k, (seq, a, b, _) in enumerate(frames):
        if damaged[k]:
            continue  # lost, or intact after all (a duplicated last byte is dropped)
        if seq in got_set:
            if k and damaged[k - 1]:
                recovered += 1
        else:
            unrecovered += 1
    # Text: every shown line must be printed, explained by text damage, or the
    # allowed truncation (first character taken by the damage rule).
    printed = {it[1] for it in split(clean)[0] if it[0] == "text"}
    ideal = {it[1] for it in split(text_only(clean, fate, frames))[0] if it[0] == "text"}
    shown = [it[1] for it in items if it[0] == "text"]
    garbage, damaged_text = [], 0
    explains = _explainer(ideal)
    for line in shown:
        if line in printed:
            continue
        if explains(line):
            damaged_text += 1
            continue
        garbage.append(line)
    fig = {
        "link_fault_spec": spec,
        "link_fault_seed": seed,
        "link_fault_seconds": seconds,
        "link_fault_bytes": len(clean),
        "link_fault_replay_matches": bool(aligned),
        "link_fault_frames": len(frames),
        "link_fault_frames_damaged": sum(damaged),
        "link_fault_recovered_frames": recovered,
        "link_fault_unrecovered": unrecovered,
        "link_fault_damaged_accepted": accepted,
        "link_fault_losses_counted": dec.counters.frames_lost + dec.counters.frames_corrupt,
        "link_fault_text_lines": len(shown),
        "link_fault_text_lines_damaged": damaged_text,
        "link_fault_garbage_shown": len(garbage),
    }
    return fig, garbage


def _explainer(ideal):
    """A test for shown lines: is it one of `ideal` with its damage (see
    _explained)? Exact lines go through sets; only lines with markers are
    matched as patterns, each compiled once."""
    exact = set()
    patterns = []
    for w in ideal:
        if "\0" in w or "\x01" in w:
            patterns += [re.compile(_pattern(c), re.S) for c in (w, w[1:])]
        else:
            exact.update((w, w[1:]))
    return lambda line: line in exact or any(p.fullmatch(line) for p in patterns)


def _pattern(cand):
    pat = []
    i = 0
    while i < len(cand):
        ch = cand[i]
        if ch == "\0":
            pat.append("(?:.|)")
        elif ch == "\x01" and i + 1 < len(cand):
            i += 1
            pat.append("(?:%s|)" % re.escape(cand[i]))
        elif ch != "\x01":
            pat.append(re.escape(ch))
        i += 1
    return "".join(pat)


def _explained(line, ideal_line):
    """line is ideal_line with its damage: a NUL marks a flipped byte, which
    shows as one character or, if it made bad UTF-8, as nothing; a SOH marks
    the first byte after a damaged frame, which the splitter's damage rule may
    have taken (docs/reliability.md) - also in the middle of a line, when a
    flipped newline joined two; and a line's first character may be taken."""
    return _explainer([ideal_line])(line)



def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seconds = float(argv[0]) if argv else 8.0
    spec = argv[1] if len(argv) > 1 else SPEC
    seed = int(argv[2]) if len(argv) > 2 else 1
    fig, garbage = measure(seconds, spec, seed)
    merge(fig)
    for k in sorted(fig):
        print(f"{k:32} {fig[k]}")
    for g in garbage[:10]:
        print("garbage:", repr(g))
    bad = (fig["link_fault_garbage_shown"] or fig["link_fault_unrecovered"]
           or fig["link_fault_damaged_accepted"] or not fig["link_fault_replay_matches"])
    print("link faults:", "GOALS MISSED" if bad else "all goals met", f"-> {RESULTS.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
