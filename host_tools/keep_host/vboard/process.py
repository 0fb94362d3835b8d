"""One MicroPython unix-port process behind a pty, the way a board's CPU
sits behind its UART.

Each boot gets a fresh pty; its slave side is the process's stdin, stdout
and stderr. The parent keeps its own slave fd open: the master then never
reports EIO before the child has opened the slave, the line discipline's
state can be read from it (repl_reading), and process exit is learnt from
waitpid (a waiter thread), not from EIO.

Ctrl-C is not the line discipline's business here (ISIG stays off, so a
0x03 byte is always just a byte): the unix port installs its SIGINT
handler exactly while it runs code - where a board's UART turns Ctrl-C
into KeyboardInterrupt - and puts SIG_DFL back afterwards, where a SIGINT
would kill it (e.g. between a SystemExit and the process's exit). The host
asks sigint_state() and sends the signal itself (interrupt()), or
delivers the byte.

Invariant: the line discipline never rewrites bytes (no OPOST, no ICRNL,
no ECHO, no ISIG), so binary trace frames cross unchanged.
"""

import os
import signal
import subprocess
import termios
import threading

from .. import unixport


def _console_termios(fd):
    a = termios.tcgetattr(fd)
    a[0] = 0                       # iflag: no CR/NL translation, no XON/XOFF
    a[1] = 0                       # oflag: no output processing (binary-safe)
    a[2] = (a[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CREAD
    # lflag: raw, no echo, no signals. NOFLSH is only a marker: the unix
    # port's REPL sets lflag to 0 while it reads (mp_hal_stdio_mode_raw) and
    # restores this value while code runs, which tells repl_reading() apart.
    a[3] = termios.NOFLSH
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)


class UnixProcess:
    """micropython -X heapsize=H -i -c BOOT, on a new pty, cwd = flash."""

    def __init__(self, argv, cwd, env, on_exit=None):
        self.master, self._slave = os.openpty()
        _console_termios(self._slave)
        os.set_blocking(self.master, False)
        # A session of its own (signals from the host's terminal never reach
        # it); no controlling terminal is needed, see the module docstring.
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, start_new_session=True,
                                     close_fds=True, stdin=self._slave, stdout=self._slave,
                                     stderr=self._slave)
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

    def sigint_state(self):
        """(caught, pending): the process has a SIGINT handler - the unix
        port runs code (its mp_hal_set_interrupt_char(CTRL_C)), where a
        board would turn a Ctrl-C into KeyboardInterrupt; a SIGINT sent
        earlier has not reached it yet (the kernel still holds it)."""
        bit = 1 << (signal.SIGINT - 1)
        caught = pending = False
        try:
            with open(f"/proc/{self.pid}/status", "rb") as f:
                for line in f:
                    key, _, value = line.partition(b":")
                    if key == b"SigCgt":
                        caught = bool(int(value, 16) & bit)
                    elif key in (b"SigPnd", b"ShdPnd"):
                        pending = pending or bool(int(value, 16) & bit)
        except (OSError, ValueError):
            pass
        return caught, pending

    def interrupt(self):
        try:
            os.kill(self.pid, signal.SIGINT)
        except OSError:
            pass

    def repl_reading(self):
        """True while the port's REPL reads input (it set lflag to 0)."""
        try:
            return termios.tcgetattr(self._slave)[3] == 0
        except (OSError, termios.error):
            return False

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
