"""flaky: a deliberately buggy driver server (the chaos app's villain).

It answers ECHO correctly most of the time, and every `crash_every_ms`
(first one sooner) it misbehaves in the next way of this list, then the
supervisor restarts it:

  0  raises an exception while holding a request   -> the caller: E_DEAD
  1  sends a corrupt reply (wrong sequence number), then replies to the
     same client again: a double reply, a `badreply` fault -> the caller
     saw a bad reply (an explicit error it can detect)
  2  calls k.fault() on itself while holding a request -> E_DEAD
  3  replies to a task that never sent to it (`badreply`) while holding a
     request -> E_DEAD

Protocol: op 1 ECHO [seq u32, payload...] -> [seq u32, sum u8 of payload];
other ops -> E_NOTSUP. Never silent: every request gets a reply or the
kernel's E_DEAD, so a client counts zero lost messages.
"""

import time

from micropython import const

_ECHO = const(1)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)

mode = [0, 0]  # module state survives restarts: next bug, instances started


async def main(k, crash_every_ms=3000, first_ms=1500, **_):
    out = bytearray(5)
    t0 = time.ticks_ms()
    due = first_ms if mode[1] == 0 and first_ms else crash_every_ms
    mode[1] += 1
    while True:
        m = await k.recv()
        c = m.sender
        b = m.body
        if m.op != _ECHO:
            await k.reply(c, _E_NOTSUP)
            continue
        if m.len < 4:
            await k.reply(c, _E_BADARG)
            continue
        out[0:4] = b[0:4]
        s = 0
        for i in range(4, m.len):
            s += b[i]
        out[4] = s & 0xFF
        if time.ticks_diff(time.ticks_ms(), t0) < due:
            await k.reply(c, 0, out)
            continue
        bug = mode[0]
        mode[0] = (bug + 1) & 3
        await k.log("flaky: bug %d" % bug)
        if bug == 0:
            raise RuntimeError("flaky: driver bug (simulated)")
        if bug == 1:
            out[0] ^= 0xFF  # wrong sequence number
            await k.reply(c, 0, out)
            await k.reply(c, 0, out)  # second reply to one message: a fault
        elif bug == 2:
            await k.fault("flaky: self-check failed (simulated)")
        else:
            await k.reply(k.id, 0, out)  # not a client of ours: a fault
