# Stand-ins for the manifest tests.


async def logger(k, period_ms=250, tag="log", levels=(), opts=None):
    pass


async def blinky(k, pin=2):
    pass
