"""--port for HIL runs: a device path, `id:SERIAL`, a socket:// URL or `vboard`,
or a comma-separated list of them, one per pytest-xdist worker."""

from ..errors import KeepError

VBOARD = "vboard"


def worker_index(workerid):
    """gw3 -> 3; the controller (no xdist) -> 0."""
    if workerid and workerid.startswith("gw") and workerid[2:].isdigit():
        return int(workerid[2:])
    return 0


def pick(spec, workerid=None):
    """The one port this process owns, from --port (maybe a list)."""
    ports = [p.strip() for p in (spec or VBOARD).split(",") if p.strip()]
    if not ports:
        raise KeepError("--port is empty: give a device, id:SERIAL, socket://HOST:PORT or vboard")
    n = worker_index(workerid)
    if len(ports) == 1:
        if ports[0] != VBOARD and workerid and n > 0:
            raise KeepError(f"--port {ports[0]} names one board but xdist started worker "
                            f"{workerid}: give one port per worker (comma-separated) or -n 1")
        return ports[0]
    if n >= len(ports):
        raise KeepError(f"worker {workerid} has no board: --port lists {len(ports)} ports; "
                        f"run with -n {len(ports)} or fewer")
    return ports[n]


def resolve(port):
    """A pyserial-openable name: `id:SERIAL` looked up among the USB serial ports."""
    if not port.startswith("id:"):
        return port
    from ..ports import name_to_device

    return name_to_device(port)


def board_for(port, board=None):
    """The board name: --board, else `unix` for a virtual board."""
    if board:
        return board
    if port == VBOARD or port.startswith("socket://"):
        return "unix"
    raise KeepError(f"--board is needed for {port} (esp32_devkitc, rpi_pico...; keep boards lists them)")
