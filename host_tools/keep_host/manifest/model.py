"""The checked app: what the manifest says once its types are known good.

Plain data, no behaviour. schema.py builds it from TOML, rules.py judges it
against a board, table.py writes it out for the device.
"""

from dataclasses import dataclass, field

# Disposition codes in the device table (what the supervisor does when the
# task faults). Append only: the device compares against these numbers.
DISPOSITIONS = {"restart": 0, "hold": 1, "reboot": 2}
PRIORITY_MOST, PRIORITY_LEAST = 0, 7  # lower number = more important
SUPERVISOR = "supervisor"  # slot 0, always present, not declared in [tasks]
SUPERVISOR_ENTRY = ("servers.supervisor", "main")
CONSOLE = "console"  # the console channel's host proxy task (runtime/console.py), after the app's
RESERVED = {SUPERVISOR: "the supervisor is always task slot 0",
            CONSOLE: "runtime.boot adds the console channel's proxy task under this name"}


@dataclass
class Region:
    name: str
    size: int
    writable: bool


@dataclass
class Task:
    """One declared task. While problems remain, a field that failed to read
    is None; a Task reaching table.render() has every field set."""

    name: str
    slot: int
    module: str
    function: str
    priority: int
    disposition: str
    server: bool = False
    driver: bool = False  # a server a monolithic build calls in its clients' tasks (table.py)
    regions: list = field(default_factory=list)  # [Region]
    heap_budget: int = 0  # bytes allocated per slice; 0 = unchecked
    slice_ms: int = 0  # longest run between yields; 0 = unchecked
    owns: dict = field(default_factory=lambda: {"pins": [], "uart": [], "spi": [], "i2c": []})
    grants: dict = field(default_factory=dict)  # peer name -> badge
    notify: list = field(default_factory=list)  # peer names it may notify (besides its grants)
    args: dict = field(default_factory=dict)

    @property
    def key(self):
        return f"tasks.{self.name}"


@dataclass
class Supervisor:
    flap_restarts: int = 5
    flap_window_ms: int = 10000
    backoff_ms: int = 10
    backoff_max_ms: int = 2000
    heartbeat_ms: int = 0

    def as_tuple(self):
        return (self.flap_restarts, self.flap_window_ms, self.backoff_ms,
                self.backoff_max_ms, self.heartbeat_ms)


@dataclass
class App:
    name: str
    board: str
    max_msg: int
    trace_records: int
    supervisor: Supervisor
    tasks: list  # [Task] in slot order, slots 1..n

    def task(self, name):
        return next((t for t in self.tasks if t.name == name), None)
