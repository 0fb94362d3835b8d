"""The board's encoder (runtime.wire on the unix port) and the host's agree byte for byte."""

import random

from keep_host import abi, unixport
from keep_host.trace import frame as fr

SCRIPT = """
import binascii
from runtime import wire
out = bytearray(wire.FRAME_BUF_LEN)
for line in open(%r):
    cap, first, count, seq, ring = line.split()
    ring = bytearray(binascii.unhexlify(ring))
    n = wire.encode(ring, int(first), int(count), int(cap), int(seq), out)
    print(binascii.hexlify(out[:n]).decode())
"""


def test_firmware_and_host_encoders_agree(tmp_path):
    rng = random.Random(6)
    cases, want = [], []
    for i in range(300):
        cap = rng.randint(1, 48)
        first = rng.randrange(cap)
        count = rng.randint(0, min(cap, abi.FRAME_MAX_RECORDS))
        seq = rng.randrange(1 << 16)
        ring = bytearray(rng.randbytes(8 * cap))
        for r in range(cap):  # mostly real kinds, some the ABI lacks (kept whole)
            ring[8 * r] = rng.randint(1, abi.TR_KIND_MAX) if i % 10 else rng.randrange(256)
        recs = [ring[8 * ((first + k) % cap):8 * ((first + k) % cap) + 8] for k in range(count)]
        cases.append(f"{cap} {first} {count} {seq} {ring.hex()}")
        want.append(fr.encode_frame(recs, seq).hex())
    data = tmp_path / "cases.txt"
    data.write_text("\n".join(cases) + "\n")
    script = tmp_path / "cross.py"
    script.write_text(SCRIPT % str(data))
    res = unixport.run([str(script)], heap="256K", timeout=60, merge_stderr=True)
    assert res.returncode == 0, res.stdout
    got = res.stdout.split()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"case {i}: {cases[i][:40]}"
