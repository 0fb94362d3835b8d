# The firmware tier really runs on MicroPython (the unix port, or a board), not CPython.
import sys
import micropython

print(sys.implementation.name)
# heap_lock is what the zero-allocation tests rely on.
micropython.heap_lock()
try:
    x = [1, 2, 3]
    print("allocated under heap_lock")
except MemoryError:
    print("heap_lock works")
micropython.heap_unlock()
