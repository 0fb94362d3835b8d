# What a task's heap is made of, object by object: the breakdown behind
# task_overhead_bytes (bench/kernel_bench.py's task_overhead()). Runs on
# any port with keep/ importable; on a board, with the firmware deployed:
#
#     mpremote connect PORT run bench/task_parts_mp.py
#
# Each line is the heap one object of that kind takes (gc.mem_alloc()
# after gc.collect(), eight made at once, the average): exact on a board,
# where docs/performance.md's table of the Pico's figures comes from.
import gc

from keep import abi, kernel, task

kernel.boot(max_msg=64, trace_records=64)


def each(label, make, n=8):
    """Bytes per object made by make(i), less the list that holds them."""
    gc.collect()
    a = gc.mem_alloc()
    objs = [None] * n
    gc.collect()
    slots = gc.mem_alloc() - a
    for i in range(n):
        objs[i] = make(i)
    gc.collect()
    print("%5d  %s" % (round((gc.mem_alloc() - a - slots) / n), label))
    return objs


async def idle(k):
    await k.recv()


class Plain:
    pass


def instance(n_attrs):
    o = Plain()
    for j in range(n_attrs):
        setattr(o, "a%d" % j, j)
    return o


print("bytes  object")
each("Handle(slot, 64): the whole task record but the coroutine", lambda i: task.Handle(i, 64))
each("Msg(64): the Msg, its buffer and body view", lambda i: task.Msg(64))
each("bytearray(2 * (MSG_HDR + 64)): the buffer alone", lambda i: bytearray(2 * (abi.MSG_HDR + 64)))
each("StopIteration(obj)", lambda i: StopIteration(i))
buf = bytearray(200)
each("memoryview slice", lambda i: memoryview(buf)[4:68])
each("coroutine of an idle task", lambda i: idle(None))
each("a task name made at run time ('t%d' % i)", lambda i: "t%d" % i)
for n in (0, 5, 7, 8):
    each("instance with %d attributes" % n, lambda i, n=n: instance(n))
h = task.Handle(0, 64)
print("Handle attributes:", sorted(h.__dict__))
print("Msg attributes:", sorted(h.m.__dict__))
