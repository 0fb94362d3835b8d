# Stand-ins for the manifest tests: the checker only looks for `async def NAME`.


async def gpio(k):
    pass


async def uart(k):
    pass


async def spi(k):
    pass


def not_a_task(k):
    pass
