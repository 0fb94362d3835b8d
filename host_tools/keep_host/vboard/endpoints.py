"""The host side of the console: a TCP socket or a pty.

Both look like a serial port to the host: pyserial/mpremote open
`socket://HOST:PORT`, or the pty's slave path like a /dev/ttyUSB0.

Like a UART with nobody listening, output with no reader is dropped, never
allowed to block the board (counted in `dropped`). A new TCP client
replaces the previous one: mpremote opens and closes the port for every
command, and a close the board has not noticed yet must not lock out the
next command.
"""

import errno
import os
import socket
import termios
import tty

from ..errors import KeepError

_MAX_PENDING = 1 << 20  # bytes queued for a slow TCP client before dropping


def parse_listen(text):
    """'HOST:PORT' / ':PORT' / 'PORT' -> (host, port)."""
    host, sep, port = str(text).rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port)
    except ValueError:
        raise KeepError(f"bad --listen address {text!r}: expected HOST:PORT")
    if not 0 <= port <= 65535:
        raise KeepError(f"bad --listen port {port}: expected 0..65535")
    return host, port


class SocketEndpoint:
    def __init__(self, listen="127.0.0.1:0"):
        host, port = parse_listen(listen)
        self.server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((host, port))
        except OSError as err:
            self.server.close()
            if err.errno == errno.EADDRINUSE:
                raise KeepError(f"cannot listen on {host}:{port}: address already in use "
                                "(another vboard? pick another --listen port or 0)")
            raise KeepError(f"cannot listen on {host}:{port}: {err.strerror or err}")
        self.server.listen(2)
        self.server.setblocking(False)
        self.host, self.port = self.server.getsockname()[:2]
        self.client = None
        self.pending = bytearray()
        self.dropped = 0
        self.connects = 0

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"socket://{host}:{self.port}"

    def read_fds(self):
        fds = [self.server]
        if self.client is not None:
            fds.append(self.client)
        return fds

    def want_write(self):
        return self.client is not None and bool(self.pending)

    def on_readable(self, obj):
        """-> bytes from the host (b'' if none)."""
        if obj is self.server:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return b""
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._drop_client()
            self.client = conn
            self.connects += 1
            return b""
        if obj is not self.client:
            return b""  # a client replaced or dropped earlier in this round
        try:
            data = self.client.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            data = b""
        if not data:
            self._drop_client()
        return data

    def _drop_client(self):
        if self.client is not None:
            try:
                self.client.close()
            except OSError:
                pass
        self.client = None
        self.pending.clear()

    def write(self, data):
        if self.client is None:
            self.dropped += len(data)
            return
        self.pending += data
        self.flush()
        if len(self.pending) > _MAX_PENDING:
            extra = len(self.pending) - _MAX_PENDING
            del self.pending[:extra]
            self.dropped += extra

    def flush(self):
        if self.client is None or not self.pending:
            return
        try:
            n = self.client.send(self.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop_client()
            return
        del self.pending[:n]

    def close(self):
        self._drop_client()
        self.server.close()


class PtyEndpoint:
    """A pty whose slave path is the board's 'serial port'."""

    def __init__(self):
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave, termios.TCSANOW)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.dropped = 0
        self.connects = 0

    @property
    def url(self):
        return self.path

    def read_fds(self):
        return [self.master]

    def want_write(self):
        return False

    def on_readable(self, obj):
        try:
            return os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return b""

    def write(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except (BlockingIOError, InterruptedError):
                self.dropped += len(view)  # nobody reading: a UART drops too
                return
            except OSError:
                self.dropped += len(view)
                return
            view = view[n:]

    def flush(self):
        pass

    def close(self):
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
