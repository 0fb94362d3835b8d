"""Manifest rules: does a well-formed app fit its board, and is it sound?

Each rule takes the App (and board) and yields Problems naming the key to
fix. The rules, in the order they report:

- entry points exist: the module file is found under firmware/ or the app
  directory and defines `async def NAME` at top level (a static look: the
  host never imports firmware code);
- grants name declared tasks, not the task itself, and only servers;
  notify names declared tasks other than the supervisor (its bits are the
  kernel's);
- no send goes "downhill": a client may send only to a server at least as
  important as itself (priority number <= its own). Otherwise a busy
  low-priority server stalls a high-priority client (priority inversion;
  inheritance bounds it, the manifest should not rely on it);
- hardware is claimed once and exists: pins, UARTs, SPI buses and their
  chip selects, I2C buses (a bus claims its pins too);
- regions obey the board's MPU (count per task, minimum size, power-of-two);
- the heap estimate fits (see heap_estimate());
- the send graph has no cycles (two tasks each waiting on the other's
  reply is a deadlock the kernel can only refuse at run time).
"""

import re
from pathlib import Path

from ..tomldata import Problem, ranges, suggest
from .model import SUPERVISOR


def check(app, board, declared, app_dir=None, roots=()):
    """All rule problems for `app` on `board` (a boards.Board)."""
    out = []
    out += check_entries(app, [Path(p) for p in roots] + ([Path(app_dir)] if app_dir else []))
    out += check_grants(app, declared)
    out += check_notify(app, declared)
    if board is not None:
        out += check_task_count(app, board)
        out += check_claims(app, board)
        out += check_regions(app, board)
        out += check_heap(app, board)
    out += check_cycles(app)
    return out


# ---- entry points -------------------------------------------------------------

def find_module(module, roots):
    """The file that `import module` would load from one of `roots`, or None."""
    rel = Path(*module.split("."))
    for root in roots:
        for cand in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
            if cand.is_file():
                return cand
    return None


def check_entries(app, roots):
    for t in app.tasks:
        if t.module is None:
            continue  # entry itself was malformed (reported by the schema)
        key = f"{t.key}.entry"
        src = find_module(t.module, roots)
        if src is None:
            where = " or ".join(str(r) for r in roots) or "no search path"
            yield Problem(key, f'module "{t.module}" not found under {where}')
            continue
        text = src.read_text(errors="replace")
        fn = re.escape(t.function)
        if re.search(rf"^async\s+def\s+{fn}\s*\(", text, re.M):
            continue
        if re.search(rf"^def\s+{fn}\s*\(", text, re.M):
            yield Problem(key, f'"{t.function}" in {src.name} is a plain def: '
                          "a task must be an `async def` at top level")
        else:
            yield Problem(key, f'no top-level "async def {t.function}" in {src}')


# ---- grants and priorities -------------------------------------------------------

def check_grants(app, declared):
    by_name = {t.name: t for t in app.tasks}
    for t in app.tasks:
        for peer in t.grants:
            key = f"{t.key}.grants.{peer}"
            if peer == t.name:
                yield Problem(key, "a task cannot send to itself (it would wait on its own reply)")
            elif peer == SUPERVISOR:
                yield Problem(key, "the supervisor only receives from the kernel; "
                              "tasks cannot send to it")
            elif peer not in declared:
                yield Problem(key, f'unknown peer "{peer}"{suggest(peer, declared)}')
            elif peer in by_name:
                p = by_name[peer]
                if not p.server:
                    yield Problem(key, f'"{peer}" is not a server (set server = true in '
                                  f"tasks.{peer} if it receives requests)")
                elif None not in (p.priority, t.priority) and p.priority > t.priority:
                    yield Problem(key, f'downhill send: "{t.name}" (priority {t.priority}) '
                                  f'is granted "{peer}" (priority {p.priority}), a less '
                                  "important server: priority inversion risk; make the "
                                  "server at least as important as its clients")


def check_notify(app, declared):
    for t in app.tasks:
        for peer in t.notify:
            key = f"{t.key}.notify"
            if peer == SUPERVISOR:
                yield Problem(key, "the supervisor's notification bits are the kernel's; "
                              "tasks cannot notify it")
            elif peer not in declared:
                yield Problem(key, f'unknown peer "{peer}"{suggest(peer, declared)}')


# ---- board fit -----------------------------------------------------------------

def check_task_count(app, board):
    # + the supervisor (slot 0) + the console channel's proxy task (last slot)
    if len(app.tasks) + 2 > board.max_tasks:
        yield Problem("tasks", f"{len(app.tasks)} tasks, the supervisor and the console task "
                      f"need {len(app.tasks) + 2} slots; {board.name} has {board.max_tasks}")


def check_claims(app, board):
    """Each pin, UART, SPI bus / chip select and I2C bus has one owner."""
    owner = {}  # resource -> (task name, what)

    def claim(task, key, res, what):
        prev = owner.get(res)
        if prev and prev[0] == task.name and res[0] == "spi":
            return None  # one server may list several chip selects on its bus
        if prev:
            return Problem(key, f"{what} is already claimed by task \"{prev[0]}\" ({prev[1]})")
        owner[res] = (task.name, what)
        return None

    gpio = set(board.gpio)
    pins_text = ranges(board.gpio)
    for t in app.tasks:
        o = t.owns
        for pin in o["pins"]:
            key = f"{t.key}.owns.pins"
            if pin not in gpio:
                yield Problem(key, f"pin {pin} does not exist on {board.name} "
                              f"(usable: {pins_text})")
            elif p := claim(t, key, ("pin", pin), f"pin {pin}"):
                yield p
        for uid in o["uart"]:
            key = f"{t.key}.owns.uart"
            u = board.uart(uid)
            if u is None:
                yield Problem(key, f"uart {uid} does not exist on {board.name} "
                              f"(uarts: {ranges(x.id for x in board.uarts) or 'none'})")
                continue
            if u.console:
                yield Problem(key, f"uart {uid} is the console on {board.name}; "
                              "it cannot be claimed")
                continue
            for res, what in ((("uart", uid), f"uart {uid}"),
                              (("pin", u.tx), f"pin {u.tx} (uart {uid} tx)"),
                              (("pin", u.rx), f"pin {u.rx} (uart {uid} rx)")):
                if p := claim(t, key, res, what):
                    yield p
        for bus, cs in o["spi"]:
            key = f"{t.key}.owns.spi"
            s = board.spi(bus)
            if s is None:
                yield Problem(key, f"spi bus {bus} does not exist on {board.name} "
                              f"(buses: {ranges(x.id for x in board.spis) or 'none'})")
                continue
            if cs not in gpio:
                yield Problem(key, f"chip select pin {cs} does not exist on {board.name}")
                continue
            if cs in (s.sck, s.mosi, s.miso):
                yield Problem(key, f"chip select pin {cs} is one of spi {bus}'s bus pins")
                continue
            if p := claim(t, key, ("spi-cs", bus, cs), f"spi {bus} cs {cs}"):
                yield p
            first = ("spi", bus) not in owner
            if p := claim(t, key, ("spi", bus), f"spi bus {bus}"):
                yield p
                continue
            bus_pins = ((s.sck, "sck"), (s.mosi, "mosi"), (s.miso, "miso")) if first else ()
            for pin, role in ((cs, "cs"), *bus_pins):
                if p := claim(t, key, ("pin", pin), f"pin {pin} (spi {bus} {role})"):
                    yield p
        for iid in o["i2c"]:
            key = f"{t.key}.owns.i2c"
            i = board.i2c(iid)
            if i is None:
                yield Problem(key, f"i2c {iid} does not exist on {board.name}")
                continue
            for res, what in ((("i2c", iid), f"i2c {iid}"),
                              (("pin", i.sda), f"pin {i.sda} (i2c {iid} sda)"),
                              (("pin", i.scl), f"pin {i.scl} (i2c {iid} scl)")):
                if p := claim(t, key, res, what):
                    yield p


def check_regions(app, board):
    mpu = board.mpu
    for t in app.tasks:
        if len(t.regions) > mpu.regions:
            yield Problem(f"{t.key}.regions", f"{len(t.regions)} regions; the {board.chip} "
                          f"MPU rules of {board.name} allow {mpu.regions} per task")
        for reg in t.regions:
            why = mpu.size_problem(reg.size)
            if why:
                yield Problem(f"{t.key}.regions.{reg.name}.size", why)


def heap_estimate(app, board):
    """Bytes of heap the app is expected to need on `board`, and the parts.

    kernel_bytes (board)                        kernel, supervisor, servers' code
    + trace_records * 8                         the trace ring
    + per task, supervisor included:
        task_overhead_bytes (board)             record, coroutine, frames
        + max_msg                               its receive/reply buffer
    + per declared task:
        sum of region sizes                     carved from the kernel arena
        + heap_bytes budget                     what it may allocate per slice
    It is an estimate to catch apps that cannot fit, not a guarantee.
    """
    per_task = {}
    for t in app.tasks:
        per_task[t.name] = (board.task_overhead_bytes + app.max_msg
                            + sum(r.size for r in t.regions) + (t.heap_budget or 0))
    fixed = (board.kernel_bytes + app.trace_records * 8
             + board.task_overhead_bytes + app.max_msg)
    return fixed + sum(per_task.values()), per_task


def check_heap(app, board):
    total, per_task = heap_estimate(app, board)
    if total > board.heap_bytes:
        top = sorted(per_task.items(), key=lambda kv: -kv[1])[:3]
        biggest = ", ".join(f"{n} {b}" for n, b in top)
        yield Problem("tasks", f"needs about {total} bytes of heap (regions + budgets + "
                      f"overhead; biggest: {biggest}), more than the {board.heap_bytes} "
                      f"{board.name} has")


# ---- send graph -----------------------------------------------------------------

def check_cycles(app):
    """One problem per strongly connected group of tasks, showing a cycle."""
    names = [t.name for t in app.tasks]
    edges = {t.name: [p for p in t.grants if p in names and p != t.name] for t in app.tasks}
    for group in _sccs(names, edges):
        if len(group) < 2:
            continue
        start = min(group, key=names.index)
        cycle = _shortest_cycle(start, edges, set(group))
        yield Problem(f"tasks.{start}.grants",
                      f"send cycle {' -> '.join(cycle)} (possible deadlock: each may wait "
                      "on the next one's reply)")


def _sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(edges[w])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                out.append(group)
    return out


def _shortest_cycle(start, edges, group):
    """BFS inside `group` from start back to start: [start, ..., start]."""
    prev = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in edges[v]:
                if w not in group:
                    continue
                if w == start:
                    path = [v]  # walk back v -> ... -> start, then turn it round
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]
