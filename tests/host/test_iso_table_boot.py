"""The host compiler's app_table.py boots on the unix port (runtime.boot).

compile_app checks a manifest and writes the table; the MicroPython unix
port then boots it with runtime.boot.main: tasks in slot order, regions
carved under the board's MPU rules, grants and badges stamped, and a
crashing server restarted by the supervisor.
"""

import textwrap

from keep_host import unixport
from keep_host.manifest import compile_app
from keep_host.paths import FIRMWARE

APP = """
name = "isotable"
board = "unix"

[supervisor]
backoff_ms = 0
backoff_max_ms = 0

[tasks.store]
entry = "iso_tasks:store"
priority = 1
server = true
regions = { scratch = { size = 256, access = "rw" } }
owns = { pins = [3] }

[tasks.user]
entry = "iso_tasks:user"
priority = 2
grants = { store = 42 }
regions = { io = { size = 512, access = "rw" }, ro = { size = 256, access = "r" } }
args = { rounds = 3 }
"""

TASKS = '''
from keep import abi
seen = []


async def store(k, owns):  # boot passes the owns of a task that owns hardware
    if not seen:
        seen.append(("owns", owns["pins"]))
    while True:
        m = await k.recv()
        if m.op == 9:
            raise ValueError("crash on purpose")
        n = m.lease.read(0, 4, bytearray(4)) if m.lease is not None else 0
        seen.append(("store", m.badge, n))
        await k.reply(m.call, 0, m.body[:m.len])


async def user(k, rounds):
    io = k.region("io")
    io.write(0, b"abcd")
    for i in range(rounds):
        await k.send(k.lookup("store"), 1, b"r%d" % i, lease=io.lease(0, 4))
        seen.append(("user", k.rc))
    await k.send(k.lookup("store"), 9, b"die")
    seen.append(("crash", k.rc))
    await k.sleep_ms(5)
    await k.send(k.lookup("store"), 1, b"again")
    seen.append(("after restart", k.rc, k.region("ro").writable))
'''

DRIVER = '''
import sys
from keep import kernel, tcb
from runtime import boot
import iso_tasks


class Null:
    def write(self, b, n=None):  # a stream's write(buf, max_len), as drain calls it
        return len(b) if n is None else n


boot.main("app_table", out=Null(), duration_ms=60)
print([tcb.name[s] for s in range(tcb.ntasks)])
print([r.size for r in (kernel.tcb.handle[2].regions["io"], kernel.tcb.handle[2].regions["ro"])])
for x in iso_tasks.seen:
    print(x)
print("restarts", tcb.restarts[1])
'''


def test_compiled_table_boots_on_the_unix_port(tmp_path):
    (tmp_path / "app.toml").write_text(APP)
    (tmp_path / "iso_tasks.py").write_text(TASKS)
    table = compile_app(str(tmp_path / "app.toml"))
    (tmp_path / "app_table.py").write_text(table)
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    res = unixport.run([str(tmp_path / "driver.py")], heap="256K", path=(FIRMWARE, tmp_path),
                       cwd=tmp_path, timeout=60, merge_stderr=True)
    out = res.stdout
    assert res.returncode == 0, out
    lines = out.splitlines()
    assert lines[0] == "['supervisor', 'store', 'user']", out  # the console proxy: on the first call
    assert lines[1] == "[512, 256]", out
    assert lines.count("('store', 42, 4)") == 3, out  # badge from the grant, lease read
    assert "('crash', -1)" in lines, out  # the server died mid-call: E_DEAD
    assert "('after restart', 0, False)" in lines, out
    assert lines[2] == "('owns', (3,))", out
    assert lines[-1] == "restarts 1", out
