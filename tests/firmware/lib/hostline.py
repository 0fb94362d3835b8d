# The host end of a host-mode UART line in hal.sim: types bytes into the
# board's receiver in pieces, as a person or a host program would.
from hal.sim import world


def typist(uart, pieces, gap_ms=20):
    """A task body (spawn it) that injects each of `pieces` into `uart`,
    `gap_ms` of board time apart."""

    async def host(k):
        for piece in pieces:
            await k.sleep_ms(gap_ms)
            world.inject(uart, piece)

    return host
