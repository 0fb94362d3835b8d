# MicroPython (unix port): microseconds per record for runtime.wire.encode.
# Run by bench/trace_decode.py; prints one JSON line.
import time

from keep import abi
from runtime import wire

CAP = 256
ring = bytearray(abi.TR_SIZE * CAP)
for i in range(CAP):
    ring[i * 8] = (abi.TR_SWITCH, abi.TR_SEND, abi.TR_RECV, abi.TR_REPLY)[i % 4]
out = bytearray(wire.FRAME_BUF_LEN)
N = 4000
n = abi.FRAME_MAX_RECORDS
t0 = time.ticks_us()
for seq in range(N):
    wire.encode(ring, (seq * n) % CAP, n, CAP, seq, out)
dt = time.ticks_diff(time.ticks_us(), t0)
print('{"wire_encode_us_per_record": %.4f, "wire_encode_us_per_frame": %.3f}'
      % (dt / (N * n), dt / N))
