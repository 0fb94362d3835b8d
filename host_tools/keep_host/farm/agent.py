"""Keep's agent in the farm venv: one acquired labgrid place, for as long as
Keep uses it.

Run by the farm venv's python (`.venv-farm`, labgrid and its pyserial fork),
never imported by Keep's own environment. It opens a labgrid ClientSession,
checks that this user holds the place, and prints one JSON line: the place's
serial URL (through labgrid's proxy handling, so an SSH-forwarded exporter
works - the forward lives as long as this process), its tags, whether it
has a power resource. Then it stays, watching the place, and answers one
command per stdin line:

    check    -> {"event": "ok"} or {"event": "gone", "message": ...}
    url S    -> {"event": "url", "url": ...} once the serial port is there again,
                or an error after S seconds without it

and prints {"event": "gone", ...} by itself the moment the place is released
or its exporter disconnects. It exits when stdin closes (Keep is done).
Every line is JSON; an error is {"event": "error", "message": one line}.
"""

import argparse
import asyncio
import json
import logging
import os
import select
import sys
import time

POLL_S = 0.2  # how often the coordinator's updates are taken in while idle

# The resource classes labgrid-client's `power` command can drive.
POWER = {"NetworkPowerPort", "NetworkUSBPowerPort", "NetworkSiSPMPowerPort", "PDUDaemonPort",
         "TasmotaPowerPort", "NetworkYKUSHPowerPort", "NetworkSysfsGPIO"}


def say(**msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


class Gone(Exception):
    """The place can't be used (not held by us, released, exporter gone): one line."""


class Agent:
    def __init__(self, name, address):
        from labgrid.remote.client import start_session

        self.name = name
        self.address = address
        try:
            self.session = start_session(address)
        except Exception:  # grpc and labgrid raise several kinds
            raise Gone(f"cannot reach the labgrid coordinator at {address}: "
                       "is it running? (LG_COORDINATOR names its HOST:PORT)") from None
        self.loop = self.session.loop
        self.me = f"{self.session.gethostname()}/{self.session.getuser()}"
        self.serial = None  # (exporter, group, cls, name) of the place's serial port

    def pump(self, seconds=POLL_S):
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def sync(self):
        self.loop.run_until_complete(self.session.sync_with_coordinator())

    def place(self):
        if self.session.stopping.is_set():
            raise Gone(f"the labgrid coordinator at {self.address} went away")
        place = self.session.places.get(self.name)
        if place is None:
            raise Gone(f"labgrid place {self.name} does not exist (labgrid-client places "
                       "lists them)")
        if not place.acquired:
            raise Gone(f"labgrid place {self.name} is not acquired: run "
                       f"`labgrid-client -p {self.name} acquire` first")
        if place.acquired != self.me and self.me not in place.allowed:
            raise Gone(f"labgrid place {self.name} is held by {place.acquired}, not by you "
                       f"({self.me}): wait for it (labgrid-client reserve --wait) or use "
                       "another place")
        return place

    def entry(self, path):
        exporter, group, _cls, name = path
        return self.session.resources.get(exporter, {}).get(group, {}).get(name)

    def check(self, was_held=False):
        """Raise Gone with the reason if the place can't be used now."""
        try:
            place = self.place()
        except Gone:
            if was_held and self.name in self.session.places and \
                    not self.session.places[self.name].acquired:
                raise Gone(f"labgrid place {self.name} was released while Keep was using it")
            raise
        for path in place.acquired_resources:
            entry = self.entry(path)
            if entry is None or not entry.data:
                raise Gone(f"labgrid place {self.name}: its exporter {path[0]} disconnected")
        return place

    def serial_url(self):
        """The acquired serial port's URL; None while it is not available."""
        from labgrid.resource import NetworkSerialPort
        from labgrid.util.proxy import proxymanager

        place = self.check()
        target = self.session._get_target(place)  # what labgrid-client console uses
        ports = [r for r in target.resources if isinstance(r, NetworkSerialPort)]
        if not ports:
            raise Gone(f"labgrid place {self.name} has no serial port among its resources "
                       "(add a match for the exporter's NetworkSerialPort or USBSerialPort)")
        res = ports[0]
        if not res.avail:
            return None
        host, port = proxymanager.get_host_and_port(res)
        if res.protocol == "rfc2217":
            return f"rfc2217://{host}:{port}?ign_set_control"
        return f"socket://{host}:{port}"

    def describe(self, url):
        place = self.check()
        classes = {p[2] for p in place.acquired_resources}
        exporters = sorted({p[0] for p in place.acquired_resources})
        return dict(event="ready", place=self.name, url=url, tags=dict(place.tags),
                    power=bool(classes & POWER), exporters=exporters, user=self.me)


def _stdin_line(timeout):
    r, _, _ = select.select([sys.stdin], [], [], timeout)
    if not r:
        return None
    return sys.stdin.readline()  # "" at EOF


def serve(agent):
    url = agent.serial_url()
    if url is None:
        raise Gone(f"labgrid place {agent.name}: its serial port is not available (is the board "
                   "plugged in at the exporter?)")
    say(**agent.describe(url))
    while True:
        line = _stdin_line(0)
        if line == "":
            return  # Keep closed our stdin: done
        if line is None:
            agent.pump()
            agent.check(was_held=True)
            continue
        cmd = line.split()
        if cmd[:1] == ["check"]:
            agent.sync()
            agent.check(was_held=True)
            say(event="ok")
        elif cmd[:1] == ["url"]:
            # After a power cycle a USB serial port comes back (maybe on a new
            # ser2net port) once the board has enumerated again: Keep says how
            # long that may take (a real board's seconds are the wall clock's).
            end = time.monotonic() + float(cmd[1] if len(cmd) > 1 else 0)
            while (url := agent.serial_url()) is None and time.monotonic() < end:
                agent.pump()
            if url is None:
                say(event="error", message=f"labgrid place {agent.name}: its serial port did "
                    f"not come back within {cmd[1]} s of the power cycle")
            else:
                say(event="url", url=url)
        else:
            say(event="error", message=f"unknown agent command {line.strip()!r}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("place")
    p.add_argument("--coordinator", default=os.environ.get("LG_COORDINATOR", "127.0.0.1:20408"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # labgrid logs to stderr otherwise
    try:
        agent = Agent(args.place, args.coordinator)
        agent.sync()
        serve(agent)
    except Gone as err:
        say(event="gone", message=str(err))
        return 3
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
