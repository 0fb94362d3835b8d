"""Hardened raw-REPL access over mpremote's SerialTransport.

The device-protocol layer deploy, tests and introspection build on. mpremote
gives up after one try ("could not enter raw repl") when the board is busy:
an app swallowing the first Ctrl-C, a half-sent paste, a board still
printing its boot. RawRepl tries harder, in steps that each cost more:

  1. Ctrl-C twice, wait until the board is quiet, Ctrl-A;
  2. the same after Ctrl-B (leave a raw/paste mode left open by a dead tool);
  3. soft reset from the friendly REPL (Ctrl-B, Ctrl-D), then Ctrl-C, Ctrl-A.

Every failure the user can act on is a KeepError with one line naming the
port and what to check. Files are written next to their destination and
renamed into place after a verified copy, so a board never boots a
half-written file.

    with RawRepl("socket://127.0.0.1:4000") as r:
        r.exec("import os")
        r.put("main.py", data)
        print(r.eval("os.listdir()"))
"""

import contextlib
import hashlib
import io
import time

from .errors import KeepError

ATTEMPTS = 3


class ReplExecError(KeepError):
    """Code run on the board raised; str() is the exception line."""

    def __init__(self, message, traceback=""):
        super().__init__(message)
        self.traceback = traceback


def _transport_classes():
    from mpremote.transport import TransportError, TransportExecError
    from mpremote.transport_serial import SerialTransport

    return SerialTransport, TransportError, TransportExecError


class RawRepl:
    def __init__(self, port, baudrate=115200, attempts=ATTEMPTS, timeout=10.0):
        from .boardtime import clock_for, wall_seconds

        self.port = port
        self.baudrate = baudrate
        self.attempts = attempts
        # `timeout` is board seconds; mpremote's calls only know the wall clock,
        # so they get it scaled by an emulated board's declared speed.
        self.timeout = wall_seconds(port, timeout)
        self.clock = clock_for(port)
        self.transport = None
        self.retries = 0  # attempts beyond the first, over this object's life

    # ---- connection ----------------------------------------------------------

    def open(self):
        SerialTransport, TransportError, _ = _transport_classes()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.transport = SerialTransport(self.port, baudrate=self.baudrate)
        except (TransportError, OSError, ValueError) as err:
            raise KeepError(f"cannot open {self.port}: {err}; check the port exists and "
                            "that no other program (monitor, mpremote, a vboard stopped "
                            "meanwhile) holds it")
        return self

    def close(self):
        if self.transport is None:
            return
        try:
            if self.transport.in_raw_repl:
                self.transport.exit_raw_repl()
            self.transport.close()
        except Exception:
            pass
        self.transport = None

    def __enter__(self):
        if self.transport is None:
            self.open()
        self.enter()
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- raw REPL entry ------------------------------------------------------

    def _write(self, data):
        self.transport.serial.write(data)

    def _drain(self, quiet_s=0.15, limit_s=2.0):
        """Read until the board has been quiet for quiet_s; returns what came."""
        ser = self.transport.serial
        now = self.clock.now  # board seconds
        got = bytearray()
        end = now() + limit_s
        last = now()
        while now() < end:
            n = ser.in_waiting
            if n:
                got += ser.read(n)
                last = now()
            elif now() - last >= quiet_s:
                break
            else:
                time.sleep(0.01)
        return bytes(got)

    def enter(self, soft_reset=False):
        """Get the board into the raw REPL (optionally soft-resetting it)."""
        if self.transport is None:
            self.open()
        _, TransportError, _ = _transport_classes()
        tail = b""
        last = None
        for attempt in range(self.attempts):
            out = io.StringIO()
            if attempt:
                self.retries += 1
            try:
                if attempt == 1:
                    self._write(b"\r\x02")          # leave a raw mode left open
                elif attempt >= 2:
                    self._write(b"\r\x02\x04")      # soft reset from the friendly REPL
                    self.clock.sleep(0.3)
                self._write(b"\r\x03\x03")
                tail = self._drain()[-200:]
                with contextlib.redirect_stdout(out):
                    self.transport.enter_raw_repl(soft_reset=soft_reset,
                                                  timeout_overall=self.timeout / self.attempts)
                return self
            except (TransportError, OSError) as err:
                tail = out.getvalue().encode() or tail
                last = err
                self.transport.in_raw_repl = False
        raise KeepError(f"could not enter the raw REPL on {self.port} after {self.attempts} "
                        f"attempts ({last}); last output {tail[-80:]!r}: check the board "
                        "runs MicroPython and nothing else uses the port, or reset it")

    def soft_reset(self):
        """Soft reset and come back in the raw REPL."""
        return self.enter(soft_reset=True)

    # ---- running code --------------------------------------------------------

    def exec(self, code, timeout=None):
        """Run code on the board; returns its stdout bytes."""
        if self.transport is None or not self.transport.in_raw_repl:
            self.enter()
        _, TransportError, _ = _transport_classes()
        try:
            out, err = self.transport.exec_raw(code, timeout=timeout or self.timeout)
        except TransportError as e:
            self.transport.in_raw_repl = False
            raise KeepError(f"lost the raw REPL on {self.port} while running code ({e}); "
                            "the board may have reset or the link dropped bytes")
        if err:
            text = err.decode(errors="replace").strip()
            raise ReplExecError(f"board raised: {text.splitlines()[-1] if text else '?'}",
                                text)
        return out

    def eval(self, expr):
        import ast

        out = self.exec(f"print(repr({expr}))").decode(errors="replace").strip()
        try:
            return ast.literal_eval(out)
        except (ValueError, SyntaxError):
            raise KeepError(f"board answered {out[-80:]!r} to {expr!r}, not a Python literal "
                            "(a damaged link?)")

    # ---- files -----------------------------------------------------------------

    def get(self, remote):
        """Contents of a file on the board."""
        _, TransportError, _ = _transport_classes()
        try:
            return bytes(self.transport.fs_readfile(remote))
        except TransportError as err:
            self.transport.in_raw_repl = False
            raise KeepError(f"cannot read {remote} from {self.port}: {err}")
        except OSError as err:
            raise KeepError(f"cannot read {remote} from {self.port}: {err}")

    def remote_sha256(self, remote):
        """sha256 of a board file, or None if the board has no hashlib."""
        code = ("import hashlib\nh=hashlib.sha256()\nf=open(%r,'rb')\n"
                "while 1:\n b=f.read(512)\n if not b:break\n h.update(b)\n"
                "f.close()\nprint(h.digest().hex())" % remote)
        try:
            return self.exec(code).decode().strip()
        except ReplExecError as err:
            if "hashlib" in err.traceback and "ImportError" in err.traceback:
                return None
            raise

    def put(self, remote, data, verify=True):
        """Write bytes to a board file: copy to REMOTE.tmp, verify, rename.

        Retries the whole copy (re-entering the raw REPL) on a link error; a
        failed copy leaves at most REMOTE.tmp behind, never a short REMOTE.
        """
        data = bytes(data)
        tmp = remote + ".tmp"
        _, TransportError, _ = _transport_classes()
        last = None
        for attempt in range(self.attempts):
            try:
                if not self.transport.in_raw_repl:
                    self.enter()
                self.transport.fs_writefile(tmp, data, chunk_size=256)
                if verify:
                    size = self.eval(f"__import__('os').stat({tmp!r})[6]")
                    if size != len(data):
                        raise KeepError(f"{tmp}: {size} bytes on the board, {len(data)} sent")
                    digest = self.remote_sha256(tmp)
                    if digest is not None and digest != hashlib.sha256(data).hexdigest():
                        raise KeepError(f"{tmp}: content differs after copy")
                self.exec(f"import os\ntry:\n os.remove({remote!r})\nexcept OSError:\n pass\n"
                          f"os.rename({tmp!r},{remote!r})")
                return len(data)
            except ReplExecError:
                raise
            except (KeepError, TransportError, OSError) as err:
                last = err
                self.retries += 1
                if self.transport is not None:
                    self.transport.in_raw_repl = False
        raise KeepError(f"could not write {remote} on {self.port} after {self.attempts} "
                        f"attempts: {last}")
