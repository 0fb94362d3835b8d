"""The device under test, as a test sees it (the `dut` fixture).

    def test_uart_loopback(dut):
        rc, _ = dut.call("uart", 1, b"hello")
        dut.expect(r"load: ok=\\d+", timeout=5)
        ev = dut.wait_event(kind="restart", task="uart", timeout=2)
        dut.assert_no_frames_lost()

Everything a test waits for is looked for *after* a mark: by default the
moment the test began (dut.start), or any dut.mark() taken later. A wait
that times out raises ExpectTimeout (an AssertionError): the pattern, the
last lines received and the path of this test's full log.
"""

import re

from ..errors import KeepError
from .link import Tap, item_line, snapshot


class ExpectTimeout(AssertionError):
    """A HIL expectation that did not come true in time."""


class Mark:
    def __init__(self, index, counters, t):
        self.index = index
        self.counters = counters
        self.t = t

    def __int__(self):
        return self.index


def _session(name, doc=None):
    """A read-only attribute of the Dut that is its session's."""
    return property(lambda self: getattr(self.session, name), doc=doc)


class Dut:
    def __init__(self, session, log_path=None):
        self.session = session
        self.log_path = log_path
        self._console = None
        self._tap = None
        self.start = self.mark()

    # ---- what the board is ----------------------------------------------------------

    link = _session("link")
    port = _session("port")
    board = _session("board")
    app = _session("app")
    virtual = _session("virtual")
    sim = _session("sim", "SimControl of the virtual board (KeepError on a real one).")
    wiring = _session("wiring", "The board's test wiring: {'gpio_loop': [[out, in]], "
                                "'uart_loop': [id], 'spi_flash': {...}}.")

    @property
    def names(self):
        return dict(self.session.names)

    def slot(self, task):
        if isinstance(task, int):
            return task
        for s, n in self.session.names.items():
            if n == task:
                return s
        raise KeepError(f"no task {task!r} in {self.app} (tasks: {', '.join(self.session.names.values())})")

    # ---- board time ---------------------------------------------------------------------

    @property
    def clock(self):
        """The board's clock (keep_host.boardtime): wall time on a real board and
        the unix board, the emulated clock on the emulated Pico."""
        return self.link.clock

    def sleep(self, seconds):
        """Let `seconds` of board time pass."""
        self.link.clock.sleep(seconds)

    # ---- marks and the log --------------------------------------------------------------

    def mark(self):
        """A point in the stream: waits and checks can start from it."""
        link = self.session.link
        with link.cond:
            return Mark(len(link.items), snapshot(link.counters), link.clock.now())

    def _since(self, since):
        if since is None:
            return self.start.index
        return int(since)

    def _fail(self, what, timeout):
        from .link import fmt_item

        with self.link.cond:
            recent = self.link.items[-2000:]
        said = [fmt_item(i, self.names) for i in recent if item_line(i) is not None][-10:]
        other = [fmt_item(i, self.names) for i in recent if item_line(i) is None][-4:]
        tail = said + ["(latest trace events:)"] + other if other else said
        lines = "\n".join("    " + ln[:200] for ln in tail) or "    (nothing)"
        where = f"full log: {self.log_path}" if self.log_path else "no log file"
        err = f"; link: {self.link.error}" if self.link.error else ""
        return ExpectTimeout(f"{what} not seen within {timeout:g} s on {self.port}{err}\n"
                             f"  last lines received:\n{lines}\n  {where}")

    # ---- console text -------------------------------------------------------------------

    def expect(self, pattern, timeout=10.0, since=None):
        """Wait for a console line or a task's log line matching pattern (a
        regex, searched); returns the re.Match. Matching moves nothing:
        call again with since=dut.mark() to wait for the next one."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern

        def match(item):
            line = item_line(item)
            return rx.search(line) if line is not None else None

        got = self.link.wait(self._since(since), match, timeout)
        if got is None:
            raise self._fail(f"pattern {rx.pattern!r}", timeout)
        return got[2]

    def lines(self, since=None):
        """Console and log lines since a mark (default: the test's start)."""
        with self.link.cond:
            items = self.link.items[self._since(since):]
        return [ln for ln in map(item_line, items) if ln is not None]

    def write(self, data):
        """Raw bytes to the console (b'\\x03' stops the kernel)."""
        self.link.write(data)

    # ---- trace events -----------------------------------------------------------------------

    def _event_match(self, kind, task, where):
        slot = None if task is None else self.slot(task)
        kinds = None if kind is None else ({kind} if isinstance(kind, str) else set(kind))

        def match(item):
            k = getattr(item, "kind", None)
            if k is None or not hasattr(item, "fields"):
                return False
            if kinds is not None and k not in kinds:
                return False
            if slot is not None and item.slot != slot:
                return False
            return True if where is None else bool(where(item))

        return match

    def events(self, kind=None, task=None, where=None, since=None):
        """Decoded trace events since a mark, filtered."""
        m = self._event_match(kind, task, where)
        with self.link.cond:
            items = self.link.items[self._since(since):]
        return [it for it in items if m(it)]

    def wait_event(self, kind=None, task=None, where=None, timeout=10.0, since=None):
        """The first trace event after the mark with this kind (name or set of
        names), task (name or slot) and where(ev) true; ExpectTimeout if none."""
        got = self.link.wait(self._since(since), self._event_match(kind, task, where), timeout)
        if got is None:
            what = " ".join(p for p in (f"kind={kind!r}" if kind else "", f"task={task!r}" if task
                                        is not None else "", "where=..." if where else "") if p)
            raise self._fail(f"trace event {what or '(any)'}", timeout)
        return got[1]

    def generation(self, task, before=None):
        """The task's generation from the state and restart records seen
        before an item index (default: all so far); 0 if none."""
        slot = self.slot(task)
        with self.link.cond:
            items = self.link.items[:before]
        gen = 0
        for ev in items:
            k = getattr(ev, "kind", None)
            if k == "boot":
                gen = 0
            elif k in ("state", "restart") and ev.slot == slot:  # switch records carry no generation on the wire
                gen = ev["generation"]
        return gen

    def expect_restart(self, task, within_ms=1000, since=None, timeout=None):
        """The task faulted (after the mark) and was restarted with a new
        generation within within_ms of the fault, by the board's clock.
        Returns (fault event, restart event)."""
        since = self._since(since)
        before = self.generation(task, before=since)
        timeout = timeout if timeout is not None else within_ms / 1000 + 5
        fault = self.wait_event(kind="fault", task=task, since=since, timeout=timeout)
        start = self.link.items.index(fault, since)
        restart = self.wait_event(kind="restart", task=task, since=start, timeout=timeout)
        if restart["generation"] <= before:
            raise AssertionError(f"{task} restarted with generation {restart['generation']}, not "
                                 f"newer than {before}; full log: {self.log_path}")
        if fault.t_us is not None and restart.t_us is not None:
            took_ms = (restart.t_us - fault.t_us) / 1000
            if took_ms > within_ms:
                raise AssertionError(f"{task} restarted {took_ms:.1f} ms after its fault, more "
                                     f"than {within_ms} ms; full log: {self.log_path}")
        return fault, restart

    def frames(self, since=None):
        """Counter deltas (frames_ok/lost/corrupt, records_dropped...) since a mark."""
        m = since if isinstance(since, Mark) else self.start
        now = snapshot(self.link.counters)
        return {k: now[k] - m.counters.get(k, 0) for k in now}

    def assert_no_frames_lost(self, since=None):
        """No trace frame lost or corrupt, nothing dropped by the board, since the mark."""
        d = self.frames(since)
        bad = {k: d[k] for k in ("frames_lost", "frames_corrupt", "records_dropped") if d[k]}
        if bad:
            raise AssertionError(f"trace damage since the mark: {bad} ({d['frames_ok']} frames ok); "
                                 f"full log: {self.log_path}")
        return d

    # ---- the console channel -----------------------------------------------------------------

    @property
    def console(self):
        """A ConsoleClient on the session's link (tasks/hold/release/fault/call)."""
        if self._console is None:
            from ..console import ConsoleClient

            self._tap = Tap(self.link)
            self._console = ConsoleClient(self.port, timeout=3.0, transport=self._tap,
                                          clock=self.link.clock)
        return self._console

    def tasks(self):
        return {t.name: t for t in self.console.tasks()}

    def call(self, task, op, data=b""):
        return self.console.call(task, op, data)

    def fault(self, task, kind="injected"):
        return self.console.fault(task, kind)

    def hold(self, task):
        return self.console.hold(task)

    def release(self, task):
        return self.console.release(task)

    # ---- the board as a whole -------------------------------------------------------------------

    def reset(self):
        """Soft reset and boot the kernel again; later waits start from its BOOT."""
        self._drop_console()
        boot = self.session.reset()
        m = self.mark()
        self.start = Mark(boot, m.counters, m.t)
        return self

    def deploy(self, app=None, firmware=None):
        """Deploy again (only what changed) and boot; returns the deploy Result."""
        self._drop_console()
        res = self.session.deploy(app, firmware)
        return res

    def _drop_console(self):
        if self._tap is not None:
            self._tap.close()
        self._console = self._tap = None

    def close(self):
        self._drop_console()
