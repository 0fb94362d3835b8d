# Tasks of the console_demo test app.

count = [0]


async def echo(k):
    """op 2: reply rc 5 and the body upper-cased; any other op: E_NOTSUP (-6)."""
    while True:
        m = await k.recv()
        if m.op == 2:
            await k.reply(m.call, 5, bytes(m.body[: m.len]).upper())
        else:
            await k.reply(m.call, -6)


async def ticker(k):
    """Calls echo every 20 ms and prints a line every 25 calls."""
    echo_id = k.lookup("echo")
    while True:
        r = await k.send(echo_id, 2, b"tick", timeout_ms=200)
        if r.rc == -1:
            echo_id = k.lookup("echo")  # restarted: a new generation
        count[0] += 1
        if count[0] % 25 == 0:
            print("ticker", count[0])
        await k.sleep_ms(20)
