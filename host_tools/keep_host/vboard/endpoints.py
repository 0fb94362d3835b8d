"""The host side of the console: a TCP socket or a pty.

Both look like a serial port to the host: pyserial/mpremote open
`socket://HOST:PORT`, or the pty's slave path like a /dev/ttyUSB0.

Output follows a USB serial link: while a client is connected nothing is
ever dropped - what the client has not read yet waits here, and once
backlog() passes the board's limit the board stops reading the
MicroPython process, whose print() then blocks (back-pressure: the board
slows down). With no client connected, output is dropped, as a board's
USB console discards it while no port is open, and counted in `dropped`
(`keep vboard` reports it when it stops). A new TCP client replaces the
previous one: mpremote opens and closes the port for every command, and a
close the board has not noticed yet must not lock out the next command.
"""

import array
import errno
import fcntl
import os
import select
import socket
import termios
import tty

from ..errors import KeepError
from ..transport import close_quietly


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
        self.pending = bytearray()  # for the client, not yet taken by the kernel
        self.dropped = 0            # bytes of output with no client to take them
        self.connects = 0
        self.idle_timeout = 0.25    # the pump's select() timeout; nothing to poll here

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"socket://{host}:{self.port}"

    def read_fds(self):
        fds = [self.server]
        if self.client is not None:
            fds.append(self.client)
        return fds

    def write_fds(self):
        return [self.client] if self.client is not None and self.pending else []

    def refresh(self):
        pass  # a TCP client's arrival and departure are seen by select()

    def backlog(self):
        """Bytes the connected client has not taken yet."""
        return len(self.pending)

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
        self.client = close_quietly(self.client, OSError)
        self.dropped += len(self.pending)  # the port was closed before it read them
        self.pending.clear()

    def write(self, data):
        if self.client is None:
            self.dropped += len(data)
            return
        self.pending += data
        self.flush()

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
    """A pty whose slave path is the board's 'serial port'.

    Only clients hold the slave open (this side closes its own fd at once),
    so the master reports POLLHUP exactly while no client is connected.
    """

    def __init__(self):
        self.master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)  # kept by the pty for every opener
        self.path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(self.master, False)
        self._poll = select.poll()
        self._poll.register(self.master, select.POLLIN)  # POLLHUP is always reported
        self.connected = False
        self.pending = bytearray()
        self.dropped = 0
        self.connects = 0

    @property
    def url(self):
        return self.path

    @property
    def idle_timeout(self):
        # Nothing wakes select() when a client opens the pty: look often
        # while nobody is connected, so its first command is answered soon.
        return 0.25 if self.connected else 0.05

    def refresh(self):
        """Notice a client that opened the pty (POLLHUP gone)."""
        hup = any(ev & select.POLLHUP for _, ev in self._poll.poll(0))
        if not hup and not self.connected:
            self.connected = True
            self.connects += 1

    def _disconnected(self):
        self.connected = False
        self.dropped += len(self.pending)
        self.pending.clear()
        # What the last client left unread would greet the next one (the
        # pty keeps ~4 KB); a board's USB port starts empty when opened.
        # Those bytes are dropped too and counted, as far as the pty tells
        # (FIONREAD does not see the few KB still in its flip buffers).
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return
        try:
            unread = array.array("i", [0])
            fcntl.ioctl(fd, termios.FIONREAD, unread)
            termios.tcflush(fd, termios.TCIFLUSH)
            self.dropped += unread[0]
        except OSError:
            pass
        os.close(fd)

    def read_fds(self):
        return [self.master] if self.connected else []

    def write_fds(self):
        return [self.master] if self.connected and self.pending else []

    def backlog(self):
        return len(self.pending)

    def on_readable(self, obj):
        """-> bytes from the host; what a closing client wrote last still comes."""
        try:
            data = os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:  # EIO: the last client closed the pty
            data = b""
        if not data:
            self._disconnected()
        return data

    def write(self, data):
        if not self.connected:
            self.dropped += len(data)
            return
        self.pending += data
        self.flush()

    def flush(self):
        while self.connected and self.pending:
            try:
                n = os.write(self.master, self.pending)
            except (BlockingIOError, InterruptedError):
                return  # the client reads slower than the board writes: wait
            except OSError:
                self._disconnected()
                return
            del self.pending[:n]

    def close(self):
        try:
            os.close(self.master)
        except OSError:
            pass
