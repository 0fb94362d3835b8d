# A UART opened again on the same id takes over the RX notification of the
# one before it: a restarted uart server opens its UART afresh at every
# start, and the old object is never deinit'ed (its task is gone). Found
# by the trade-off fault campaign (bench/tradeoff_mp.py faults) on the
# emulated Pico, where the fifth uart restart failed with "too many UARTs
# with notify" and the server could never start again.
import hal
import rig

h = hal.load()
ok = 0
for i in range(10):  # more than the HAL's table of watched UARTs
    u = h.UART(rig.UART, 115200)
    u.notify(3, 1 << i)
    ok += 1
print("reopened with notify:", ok)
u.notify(None, 0)
