"""Server tasks: the supervisor and the drivers (gpio, uart, spi).

Each module's docstring is its protocol. Servers reach hardware only
through firmware/hal and clients only through kernel IPC.
"""
