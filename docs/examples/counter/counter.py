"""counter: a running total kept for clients (docs/howto-server.md).

Protocol (protocol.toml; numbers little endian; every reply rc is OK (0)
or a negative abi.E_*):
  op 1 ADD   [n u8]                    -> [total u32]  not idempotent; the
             caller's badge must be in `writers`, else E_DENIED
  op 2 GET   []                        -> [total u32]  idempotent
  op 3 DUMP  [] + a writable lease     -> [n u8]       the last adds, oldest
             first, one byte each, copied into the lease (E_MEM if the lease
             is missing, read-only or shorter than 16 bytes)
Unknown op: E_NOTSUP. Short body: E_BADARG.
Restart: the total lives in the region `state`, which keeps its contents
across a restart; the history of recent adds does not (it starts empty).
"""

from micropython import const

_ADD = const(1)  # the ops, from the protocol table
_GET = const(2)
_DUMP = const(3)

_OK = const(0)  # reply codes (keep/abi.py)
_E_DENIED = const(-5)
_E_NOTSUP = const(-6)
_E_BADARG = const(-7)
_E_MEM = const(-8)

_HIST = const(16)  # how many recent adds DUMP returns


async def main(k, writers=(), **_):
    state = k.region("state")         # [total u32 ...], survives a restart
    out = bytearray(4)                # the reply: the total, or DUMP's count
    hist = bytearray(_HIST)           # recent adds: reset by a restart
    adds = 0                          # adds since this instance started
    while True:
        m = await k.recv()
        op = m.op
        if op == _ADD:                # [n u8] -> [total u32]
            if m.len < 1:
                await k.reply(m.call, _E_BADARG)
                continue
            if m.badge not in writers:
                await k.reply(m.call, _E_DENIED)
                continue
            n = m.body[0]
            state.read(0, 4, out)
            total = (int.from_bytes(out, "little") + n) & 0xFFFFFFFF
            out[:] = total.to_bytes(4, "little")
            state.write(0, out)
            hist[adds % _HIST] = n
            adds += 1
            await k.reply(m.call, _OK, out)
        elif op == _GET:              # [] -> [total u32]
            state.read(0, 4, out)
            await k.reply(m.call, _OK, out)
        elif op == _DUMP:             # [] + a writable lease -> [n u8]
            ls = m.lease
            if ls is None or not ls.writable or ls.len < _HIST:
                await k.reply(m.call, _E_MEM)
                continue
            n = min(adds, _HIST)
            for i in range(n):        # oldest first
                out[0] = hist[(adds - n + i) % _HIST]
                ls.write(i, out, 1)
            out[0] = n
            await k.reply(m.call, _OK, memoryview(out)[:1])
        else:
            await k.reply(m.call, _E_NOTSUP)
