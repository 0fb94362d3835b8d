"""Server tasks: the supervisor and the drivers (gpio, uart, spi).

Each module's docstring is its protocol. Servers reach hardware only
through firmware/hal and clients only through kernel IPC.
"""


def right(table, badge):
    """What a rights table (a driver's `rights` or `devices` arg) gives the
    client with this badge, or None. The manifest's tables come from TOML,
    whose keys are strings: "1" stands for badge 1 too."""
    value = table.get(badge)
    if value is None:
        value = table.get(str(badge))
    return value


def device_for(records, keys, table, badge):
    """The record of the device a client talks to (uart, spi: one device a
    badge): with no rights table the first, else the one whose key (a UART
    id, a chip select) the table gives the badge; None if it has none."""
    if table is None:
        return records[0] if records else None
    key = right(table, badge)
    return records[keys.index(key)] if key in keys else None
