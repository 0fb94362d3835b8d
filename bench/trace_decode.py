"""Trace figures for bench/results.json (CPython; prints one JSON dict).

- monitor_decode_mb_per_s: host decode throughput (split + check + decode
  to events) of a generated multi-MB console recording, fed in 4 KiB chunks
  like a serial port delivers them. Goal >= 1 MB/s.
- trace_bytes_per_event: console bytes per trace record for the synthetic
  session's mix (frames only, text excluded), FRAME_START and frame
  header/CRC included. Issue 6's goal is <= 8 for the chaos demo.
- wire_encode_us_per_record: runtime.wire.encode on the MicroPython unix port
  (bench/wire_encode_mp.py), if `micropython` is available.

Usage: python bench/trace_decode.py [--mb 4] [--seed 0]
"""

import argparse
import json
import sys
import time
from pathlib import Path

from keep_host import unixport
from keep_host.trace import Decoder, synth
from keep_host.trace import frame as fr


def session(mb, seed):
    parts, size, s = [], 0, seed
    while size < mb * 1_000_000:
        chunk = synth.console(seed=s, cycles=400)
        parts.append(chunk)
        size += len(chunk)
        s += 1
    return b"".join(parts)


def decode_rate(data, chunk=4096, repeat=3):
    best = None
    for _ in range(repeat):
        dec = Decoder()
        t0 = time.perf_counter()
        n = 0
        for i in range(0, len(data), chunk):
            n += len(dec.feed(data[i:i + chunk]))
        n += len(dec.finish())
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return len(data) / best / 1e6, n, dec.counters


def bytes_per_event(seed, cycles=2000):
    recs = synth.records(seed, cycles)
    wire = 0
    for i in range(0, len(recs), 32):  # full frames, as a busy kernel drains them
        wire += len(fr.encode_frame(recs[i:i + 32], i // 32))
    mean_rec = sum(fr.wire_len(r[0]) for r in recs) / len(recs)
    return wire / len(recs), mean_rec


def encode_on_unix_port():
    script = Path(__file__).with_name("wire_encode_mp.py")
    try:
        res = unixport.run([str(script)], heap="256K", timeout=60)
    except Exception as err:  # no micropython here: leave the figure out
        return {"wire_encode_error": str(err)}
    if res.returncode:
        return {"wire_encode_error": res.stderr.strip()[-200:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=4.0, help="recording size in MB")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = session(args.mb, args.seed)
    rate, items, c = decode_rate(data)
    bpe, mean_rec = bytes_per_event(args.seed)
    out = {
        "monitor_decode_mb_per_s": round(rate, 2),
        "monitor_decode_recording_mb": round(len(data) / 1e6, 2),
        "monitor_decode_items": items,
        "monitor_decode_frames_corrupt": c.frames_corrupt,
        "trace_bytes_per_event_synthetic": round(bpe, 2),
        "trace_wire_bytes_per_record": round(mean_rec, 2),
    }
    out.update(encode_on_unix_port())
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from resultsfile import merge

    merge(out)
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
