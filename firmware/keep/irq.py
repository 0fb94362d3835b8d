"""Interrupts reach tasks only as notification bits.

An interrupt handler (a `machine.Pin.irq` callback, a timer) calls
post(slot, bits). post only ORs bits into a preallocated word and raises a
flag, so it allocates nothing and is safe in a hard IRQ handler; the kernel
turns pending words into notifications at its next scheduling point.

Invariant: post never allocates, never blocks, never touches task state.
"""

from array import array

from micropython import const

MAX_SLOTS = const(32)

# One word per task slot, and a flag the scheduler checks cheaply.
pending = array("I", bytes(4 * MAX_SLOTS))
flag = bytearray(1)


def post(slot, bits):
    """Mark notification `bits` for task `slot` (0..MAX_SLOTS-1). ISR-safe."""
    pending[slot] |= bits
    flag[0] = 1


def take(slot):
    """Kernel side: return and clear the pending bits of `slot`."""
    bits = pending[slot]
    pending[slot] = 0
    return bits
