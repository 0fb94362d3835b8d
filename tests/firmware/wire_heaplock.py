# wire.encode, the kernel's trace drain, allocates nothing: encode many frames
# (wrapping around the ring, every record kind) with the heap locked.
import micropython

from keep import abi
from runtime import wire

CAP = 64
ring = bytearray(abi.TR_SIZE * CAP)
for i in range(CAP):
    r = i * 8
    ring[r] = 1 + i % abi.TR_KIND_MAX
    for j in range(1, 8):
        ring[r + j] = (i * 31 + j * 7) & 0xFF
out = bytearray(wire.FRAME_BUF_LEN)
wire.encode(ring, 0, 1, CAP, 0, out)  # warm up outside the lock

total = 0
err = None
micropython.heap_lock()
try:
    for seq in range(300):
        total += wire.encode(ring, (seq * 7) % CAP, 1 + seq % abi.FRAME_MAX_RECORDS, CAP, seq, out)
    n = wire.encode(ring, CAP - 5, abi.FRAME_MAX_RECORDS, CAP, 65535, out)
except MemoryError as e:
    err = e
micropython.heap_unlock()
print("allocated" if err else "no allocation")
print("bytes", total)

# The full frame: starts with FRAME_START, the rest is 0x80..0xBF, fits the buffer.
print(out[0] == abi.FRAME_START, all(0x80 <= b <= 0xBF for b in out[1:n]), n <= len(out))
print("frame_size_max", wire.frame_size_max(), wire.frame_size_max(0), wire.frame_size_max(1))

# Wrapping around the ring gives the same frame as the same records laid out flat.
flat = bytearray(ring[(CAP - 5) * 8:] + ring[:27 * 8])
out2 = bytearray(wire.FRAME_BUF_LEN)
n2 = wire.encode(flat, 0, abi.FRAME_MAX_RECORDS, abi.FRAME_MAX_RECORDS, 65535, out2)
print("wrap ok", n == n2 and out[:n] == out2[:n2])

# Bad arguments are refused, not written past the buffer.
for args in ((ring, 0, 33, CAP, 0, out), (ring, CAP, 1, CAP, 0, out),
             (ring, 0, 32, CAP, 0, bytearray(10))):
    try:
        wire.encode(*args)
        print("accepted")
    except ValueError:
        print("refused")
