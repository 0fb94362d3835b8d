"""One MicroPython unix-port process behind a pty, the way a board's CPU
sits behind its UART.

Each boot gets a fresh pty. The slave side becomes the process's
controlling terminal (see launch.py) so Ctrl-C is a signal while code runs
and a plain byte while the REPL reads a line - the unix port itself flips
the line discipline between the two. The parent keeps its own slave fd
open: the master then never reports EIO before the child has opened the
slave, and process exit is learnt from waitpid (a waiter thread), not from
EIO.

Invariant: the line discipline never rewrites bytes (no OPOST, no ICRNL,
no ECHO), so binary trace frames cross unchanged; input typed before the
boot code switches ISIG on is queued as data, never a signal that would
kill a half-started interpreter.
"""

import os
import subprocess
import sys
import termios
import threading
from pathlib import Path

from .. import unixport

LAUNCHER = Path(__file__).with_name("launch.py")


def _console_termios(fd):
    a = termios.tcgetattr(fd)
    a[0] = 0                       # iflag: no CR/NL translation, no XON/XOFF
    a[1] = 0                       # oflag: no output processing (binary-safe)
    a[2] = (a[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CREAD
    a[3] = termios.NOFLSH          # lflag: raw, no echo; ISIG comes from the boot code
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    a[6][termios.VINTR] = 3
    termios.tcsetattr(fd, termios.TCSANOW, a)


class UnixProcess:
    """micropython -X heapsize=H -i -c BOOT, on a new pty, cwd = flash."""

    def __init__(self, argv, cwd, env, on_exit=None):
        self.master, self._slave = os.openpty()
        _console_termios(self._slave)
        os.set_blocking(self.master, False)
        tty = os.ttyname(self._slave)
        self.proc = subprocess.Popen(
            [sys.executable, "-S", str(LAUNCHER), tty, *argv],
            cwd=cwd, env=env, start_new_session=True, close_fds=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.returncode = None
        self._on_exit = on_exit
        self._waiter = threading.Thread(target=self._wait, name=f"vboard-wait-{self.pid}",
                                        daemon=True)
        self._waiter.start()

    def _wait(self):
        self.returncode = self.proc.wait()
        if self._on_exit:
            self._on_exit(self)

    @property
    def alive(self):
        return self.returncode is None and self.proc.poll() is None

    def read(self):
        """Whatever output is ready (b'' if none)."""
        chunks = []
        while True:
            try:
                data = os.read(self.master, 65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def write(self, data):
        """Queue input; returns how many bytes the pty took."""
        try:
            return os.write(self.master, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return len(data)  # process gone: the bytes fall on the floor

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, 9)
            except OSError:
                self.proc.kill()
        self.proc.wait()
        self._waiter.join(timeout=5)

    def close(self):
        self.kill()
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def micropython_argv(heap, code):
    return [unixport.micropython_exe(), "-X", f"heapsize={heap}", "-i", "-c", code]
