"""One board for one pytest process: start it (virtual), deploy, reset, recover.

BoardSession owns the port for the whole session (a pytest-xdist worker
owns exactly one board). Deploys go through keep_host.deploy with the
session's own RawRepl, so only changed files move and the console link
is handed back to the reader right after the board reboots.

Recovery, in steps that cost more each time, for a board a test left hung,
stopped or at the REPL: interrupt and soft-reset into the raw REPL
(RawRepl retries: Ctrl-C, Ctrl-B, soft reset), boot the kernel from the
friendly REPL; on a virtual board, a hard reset of the process if that
fails. Then the kernel's BOOT record must arrive.
"""

from pathlib import Path

from ..boards import load_board
from ..errors import KeepError
from ..manifest import wiring as rig
from . import ports
from ..transport import shut
from .link import Link

BOOT_TIMEOUT_S = 15.0
DEFAULT_HEAP = "256K"  # the hil app's twelve tasks on the 64-bit unix port


class BoardDead(KeepError):
    """A board that no longer answers and that Keep cannot power-cycle: every
    test after it would fail the same way."""


class BoardSession:
    def __init__(self, port_spec, board=None, workdir=None, heap=DEFAULT_HEAP):
        from .. import farm
        from ..vboard import registry

        self.spec = port_spec
        self.owned = port_spec == ports.VBOARD  # a virtual board this session starts
        self.port = None if self.owned else ports.resolve(port_spec)
        self.place = farm.opened(port_spec)  # a labgrid place, or None
        # A virtual board someone else started (`keep vboard`, by hand or by a
        # farm) is found by its URL: its rig is reachable through its control
        # channel, as a jumpered real board's wiring is there.
        self.found = None if self.owned else registry.lookup(self.port)
        self.virtual = self.owned or self.found is not None
        if self.found and not board:
            board = self.found.get("board")
        if self.place and not board:
            board = self.place.tags.get("board")  # the place's tag board=rpi_pico
        self.board = load_board(ports.board_for(port_spec, board))
        if self.found and self.found.get("board") not in (None, self.board.name):
            raise KeepError(f"{self.where} is a virtual {self.found['board']} board, not "
                            f"{self.board.name}: use --board {self.found['board']}")
        self.workdir = Path(workdir) if workdir else None
        self.heap = heap
        self.vb = None
        self.link = None
        self._sim = None
        self.app = None  # the app deployed this session
        self.app_ref = None
        self.firmware = None
        self.names = {}
        self.deploys = []  # deploy Results, in order
        self.recoveries = 0
        self.has_console = False
        self._wired = False

    @property
    def where(self):
        """How messages name the board: its labgrid place, else its port."""
        return f"labgrid place {self.place.name} ({self.port})" if self.place else self.port

    def gone(self):
        """None while the board's labgrid place is still ours; else the one line why not."""
        return self.place.check() if self.place is not None else None

    @property
    def wiring(self):
        return rig.as_dict(self.board)

    # ---- life ------------------------------------------------------------------

    def start(self):
        if self.owned:
            from ..vboard import open_virtual

            flash = self.workdir / "flash"
            flash.mkdir(parents=True, exist_ok=True)
            # The virtual board wires its rig (the board file's test_wiring:
            # simulated on the unix board, emulated around the Pico) itself.
            heap = self.heap if self.board.name == "unix" else None
            self.vb = open_virtual(self.board.name, flash, heap=heap)
            self.vb.start()  # the emulated Pico's start() waits for its USB serial
            if self.board.name == "unix":
                self.vb.wait_output(">>> ", BOOT_TIMEOUT_S)
            self.port = self.vb.url
        self.link = Link(self.port)  # its clock: the board's (an emulator's when registered)
        return self

    def stop(self):
        if self.link is not None:
            self.link.detach()
        self._sim = shut(self._sim)
        self.vb = shut(self.vb, "stop")

    @property
    def sim(self):
        if not self.virtual:
            raise KeepError(f"{self.port} is a real board: no simulated peripherals (use dut.wiring)")
        if self._sim is None:
            from ..simctl import SimControl

            ctl = self.vb.sim_ctl_port if self.vb is not None else self.found["ctl_port"]
            self._sim = SimControl("127.0.0.1", ctl)
        return self._sim

    # ---- deploy ------------------------------------------------------------------

    def _names_for(self, app_ref):
        from ..manifest import check_app

        rep = check_app(app_ref, board=self.board.name, wiring=rig.BOARD)
        names = {0: "supervisor"}
        if rep.app is not None:
            for i, t in enumerate(rep.app.tasks, 1):
                names[i] = t.name
            names[len(rep.app.tasks) + 1] = "console"
        return names

    def deploy(self, app=None, firmware=None):
        """Deploy (only what changed) and boot; returns the deploy Result."""
        from ..deploy import deploy
        from ..repl import RawRepl

        app = app or self.app
        app_ref, fw = app, None
        if firmware is not None:
            fw = Path(firmware)
            if "/" not in str(app) and (fw / "apps" / app / "app.toml").exists():
                app_ref = fw / "apps" / app / "app.toml"  # the app as it is in that tree
        self.link.detach()
        repl = RawRepl(self.port)
        repl.open()
        try:
            # The app as written for the unix board's rig, compiled for this board's.
            res = deploy(self.port, app_ref, board=self.board.name, firmware=fw, repl=repl,
                         wiring=rig.BOARD)
        except BaseException:
            repl.close()
            raise
        ser = repl.transport.serial
        repl.transport = None  # the link owns the open port now
        self.names = self._names_for(app_ref)
        self.link.set_names(self.names)
        mark = len(self.link.items)
        self.link.attach(ser)
        self.app, self.app_ref, self.firmware = app, app_ref, fw
        self.deploys.append(res)
        self.wait_booted(mark)
        if self.virtual and not self._wired:
            # The rig's jumpers: the simulator listens once hal.sim runs (the
            # kernel booted); it remembers them across reboots.
            for out_pin, in_pin in self.wiring.get("gpio_loop", ()):
                self.sim.wire(out_pin, in_pin)
            self._wired = True
        return res

    def ensure(self, app):
        """Deploy app unless it is what this session last deployed."""
        if self.app != app or not self.deploys:
            return self.deploy(app)
        return None

    def wait_booted(self, mark, timeout=BOOT_TIMEOUT_S):
        """The kernel's BOOT record after mark, then (if the app has one) the console channel."""
        got = self.link.wait(mark, lambda it: getattr(it, "kind", None) == "boot", timeout)
        if got is None:
            tail = "\n  ".join(list(self.link.recent)[-8:])
            raise KeepError(f"{self.where}: no kernel BOOT record within {timeout:g} s after "
                            f"the reset; last lines:\n  {tail}")
        self.has_console = self._ping(5.0)
        return got[0]

    def _ping(self, timeout):
        from ..console import ConsoleClient
        from .link import Tap

        tap = Tap(self.link)
        clock = self.link.clock
        end = clock.now() + timeout
        try:
            while clock.now() < end:
                try:
                    ConsoleClient(self.port, timeout=1.0, transport=tap, clock=clock).ping()
                    return True
                except KeepError:
                    continue
        finally:
            tap.close()
        return False

    # ---- reset and recovery ----------------------------------------------------------

    def reset(self):
        """Soft reset through the raw REPL and boot the kernel again; returns the
        item index of the new BOOT record."""
        from ..deploy import boot_kernel
        from ..repl import RawRepl

        self.link.detach()
        repl = RawRepl(self.port)
        repl.open()
        try:
            repl.enter(soft_reset=True)
            mark = len(self.link.items)
            boot_kernel(repl)
        except BaseException:
            repl.close()
            raise
        ser = repl.transport.serial
        repl.transport = None
        self.link.attach(ser)
        return self.wait_booted(mark)

    def healthy(self, quiet_s=2.0):
        """The link is up and the board talks (console ping, else any bytes)."""
        if self.link is None or not self.link.attached:
            return False
        if self.has_console:
            return self._ping(quiet_s)
        before = self.link.bytes_in
        self.link.clock.sleep(quiet_s)
        return self.link.bytes_in > before

    def recover(self):
        """Get the board back to a freshly booted kernel; KeepError if it won't.
        On a labgrid place: PlaceGone if the place went away, a power cycle
        where the place has a power resource."""
        from ..farm import PlaceGone

        self.recoveries += 1
        try:
            if self._sim is not None:
                self._sim.close()  # reconnects on next use
                self._sim = None
            return self.reset()
        except KeepError as err:
            if self.place is not None:
                why = self.gone()
                if why:
                    raise PlaceGone(why) from None
                if self.place.power:
                    return self._power_cycle()
                if not self.virtual:
                    if self.link.log is not None:
                        self.link.log.write(f"# reset failed: {err}\n")
                    raise BoardDead(f"labgrid place {self.place.name}: the board does not answer "
                                    "and the place has no power resource to cycle it")
            if not self.virtual:
                raise
        self.link.detach()
        if self.vb is not None:
            self.vb.reset()  # a new process (a new chip); then the ordinary path again
        else:
            self.sim.call("reset")  # a virtual board we did not start: reset it from outside
            self._sim.close()
            self._sim = None
        return self.reset()

    def _power_cycle(self):
        """Cut and restore the board's power through labgrid, then boot the kernel."""
        from ..boardtime import clock_for

        self.link.detach()
        if self.link.log is not None:
            self.link.log.write(f"# power-cycling labgrid place {self.place.name}\n")
        url = self.place.power_cycle()  # a USB port may come back on a new URL
        if url != self.port:
            self.port = self.link.port = url
            self.link.clock = clock_for(url)
        return self.reset()
