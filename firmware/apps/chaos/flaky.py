"""flaky: a deliberately buggy driver server (the chaos app's villain).

It answers ECHO correctly most of the time, and every `crash_every_ms`
(first one sooner) it misbehaves in the next way of this list, then the
supervisor restarts it:

  0  raises an exception while holding a request   -> the caller: E_DEAD
  1  sends a corrupt reply (wrong sequence number), then replies to the
     same client again: a double reply, a `badreply` fault -> the caller
     saw a bad reply (an explicit error it can detect)
  2  calls k.fault() on itself while holding a request -> E_DEAD
  3  replies naming no call it holds (its own task id, not a call id:
     `badreply`) while holding a request -> E_DEAD

Protocol: op 1 ECHO [seq u32, payload...] -> [seq u32, sum u8 of payload];
other ops -> E_NOTSUP. Never silent: every request gets a reply or the
kernel's E_DEAD, so a client counts zero lost messages.
"""

import time

# const() needs no import: the compiler folds it, and an import would be a
# module global (a dict entry) for as long as the module is loaded.

_ECHO = const(1)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)

# Module state survives restarts: the next bug, and how many instances
# started. Two plain globals, not a list (a list is one more heap object).
next_bug = 0
started = 0


# No **_ (docs/howto-task.md suggests one): the dict it would fill lives as
# long as the task, 64 bytes for two args; the args are this app's own. The
# request is read through m (valid until the next recv), not copied into
# locals: each local is 8 bytes of the task's frame for its whole life.
async def main(k, crash_every_ms=3000, first_ms=1500):
    global next_bug, started
    # The reply [seq u32 as received, sum u8 of the payload] is built in the
    # request's own buffer (recv fills k.m): a view, not a buffer of its own.
    out = k.m.body[:5]
    t0 = time.ticks_ms()
    due = first_ms if started == 0 and first_ms else crash_every_ms
    started += 1
    while True:
        m = await k.recv()
        if m.op != _ECHO:
            await k.reply(m.call, _E_NOTSUP)
            continue
        if m.len < 4:
            await k.reply(m.call, _E_BADARG)
            continue
        out[4] = sum(m.body[4 : m.len]) & 0xFF
        if time.ticks_diff(time.ticks_ms(), t0) < due:
            await k.reply(m.call, 0, out)
            continue
        bug = next_bug
        next_bug = (bug + 1) & 3
        await k.log("flaky: bug %d" % bug)
        if bug == 0:
            raise RuntimeError("flaky: driver bug (simulated)")
        if bug == 1:
            out[0] ^= 0xFF  # wrong sequence number
            await k.reply(m.call, 0, out)
            await k.reply(m.call, 0, out)  # second reply to one message: a fault
        elif bug == 2:
            await k.fault("flaky: self-check failed (simulated)")
        else:
            await k.reply(k.id(), 0, out)  # a task id, not a call of ours: a fault
