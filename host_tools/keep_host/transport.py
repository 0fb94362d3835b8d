"""The link to a board's console: a pyserial port for a device path or URL.

    port = open_port("socket://127.0.0.1:4000")   # or /dev/ttyACM0, COM5, rfc2217://...
    check_free("/dev/ttyUSB0")                     # one line if another program has it

Every part of keep that talks to a board (console calls, deploy, monitor,
the HIL link, keep test) opens its port here, with pyserial's
serial_for_url: device paths and the URLs pyserial knows (socket://,
rfc2217://, loop://). `labgrid:PLACE` and `id:SERIAL` names are turned
into one of those by keep_host.ports before they get here. A port is also
noted in keep_host.portlock, so a second keep process refuses it in one
line instead of stealing a virtual board's single client connection.

Errors are KeepError with one line a user can act on (port_hint).
"""

import errno

from .errors import KeepError

READ_TIMEOUT_S = 0.1  # how long a read waits for the first byte


def port_hint(err):
    """What to do about a port that failed to open or dropped, in one line."""
    text = str(err)
    code = getattr(err, "errno", None)
    low = text.lower()
    if code == errno.ENOENT or "no such file" in low:
        return "no such port; is the board plugged in? (python -m serial.tools.list_ports)"
    if code == errno.EACCES or "permission denied" in low:
        return "permission denied; on Linux add yourself to the dialout group"
    if code == errno.EBUSY or "lock" in low or "busy" in low:
        return "the port is busy; close mpremote, screen or another monitor using it"
    if "refused" in low:
        return "nothing is listening there; is `keep vboard` running?"
    if "url" in low or "protocol" in low or "not known" in low:
        return f"not a port or URL pyserial understands ({text})"
    return text.splitlines()[0] if text else type(err).__name__


def open_port(url, baud=115200, timeout=READ_TIMEOUT_S):
    """A pyserial port for a device path or URL; KeepError (one line) if it
    can't open, PortInUse if another keep process has it open (portlock)."""
    import serial

    from . import portlock

    key = portlock.key(url)
    portlock.acquire(key)
    kwargs = {"baudrate": baud, "timeout": timeout}
    if "://" not in url:
        kwargs["exclusive"] = True  # a second monitor gets "busy", not half the bytes
    try:
        return portlock.LockedPort(serial.serial_for_url(url, **kwargs), key)
    except (serial.SerialException, ValueError, OSError) as err:
        portlock.release(key)
        raise KeepError(f"cannot open {url}: {port_hint(err)}")


def check_free(url):
    """A serial device held by another program is 'busy' now, in one line,
    not a confusing error halfway through. URLs are not probed: a virtual
    board's socket serves one client and would drop its current one."""
    if "://" not in url:
        open_port(url).close()


def lost_message(url, err):
    """One line for a port that went away while open. A virtual board's
    socket also drops its client when another program connects (it serves
    one at a time), which must not read as the board dying."""
    if url.startswith("socket://"):
        from .vboard import registry

        if registry.lookup(url) is not None:
            return (f"lost {url}: another program connected to this virtual board's console "
                    "(it serves one client at a time); the board is still running")
        return (f"lost {url}: the connection closed (the virtual board stopped, or another "
                "program connected to it: it serves one client at a time)")
    return f"lost {url}: {port_hint(err)}"


def read_some(port, url, limit=None):
    """What the port has, up to limit bytes (at least one byte, or b"" after
    its read timeout); KeepError(lost_message) if the port went away."""
    import serial

    try:
        n = port.in_waiting
        return port.read(max(1, n if limit is None else min(n, limit)))
    except (serial.SerialException, OSError) as err:
        raise KeepError(lost_message(url, err))


def close_quietly(thing, errors=(Exception,)):
    """Close a port or socket that may already be broken; returns None (for `x = close_quietly(x)`)."""
    if thing is not None:
        try:
            thing.close()
        except errors:
            pass
    return None


def shut(thing, how="close"):
    """thing.close() (or thing.<how>()) if there is a thing; returns None,
    for `self.x = shut(self.x)`. Errors propagate (close_quietly swallows them)."""
    if thing is not None:
        getattr(thing, how)()
    return None
