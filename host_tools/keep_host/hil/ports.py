"""--port for HIL runs: a device path, `id:SERIAL`, a socket:// URL, a labgrid
place (`labgrid:PLACE`, keep_host.farm) or `vboard`, or a comma-separated list
of them, one per pytest-xdist worker."""

from ..errors import KeepError

VBOARD = "vboard"
LABGRID = "labgrid:"  # keep_host.farm.PREFIX


def worker_index(workerid):
    """gw3 -> 3; the controller (no xdist) -> 0."""
    if workerid and workerid.startswith("gw") and workerid[2:].isdigit():
        return int(workerid[2:])
    return 0


def split(spec):
    """The ports of a --port list; `labgrid:pico-1,pico-2` is two places."""
    ports = [p.strip() for p in (spec or VBOARD).split(",") if p.strip()]
    if ports and ports[0].startswith(LABGRID):
        ports = [p if p.startswith(LABGRID) else LABGRID + p for p in ports]
    return ports


def pick(spec, workerid=None):
    """The one port this process owns, from --port (maybe a list)."""
    ports = split(spec)
    if not ports:
        raise KeepError("--port is empty: give a device, id:SERIAL, socket://HOST:PORT, "
                        "labgrid:PLACE or vboard")
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
    """A pyserial-openable name: `id:SERIAL` looked up among the USB serial ports,
    `labgrid:PLACE` asked of the labgrid farm (keep_host.ports.name_to_device)."""
    if not port.startswith(("id:", LABGRID)):
        return port
    from ..ports import name_to_device

    return name_to_device(port)


def board_for(port, board=None):
    """The board name: --board, else `unix` for a virtual board."""
    if board:
        return board
    if port == VBOARD or port.startswith("socket://"):
        return "unix"
    from ..farm import place_name

    if place_name(port):
        raise KeepError(f"--board is needed for {port}: give --board or tag the place "
                        f"(labgrid-client -p {place_name(port)} set-tags board=rpi_pico)")
    raise KeepError(f"--board is needed for {port} (esp32_devkitc, rpi_pico...; keep boards lists them)")
