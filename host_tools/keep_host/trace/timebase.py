"""The one time base of every export: µs since the recording's first timed event.

The board stamps events with its own µs clock (unwrapped by the decoder,
continued across resets); every export - Perfetto, VCD, CSV - subtracts the
same origin, the time of the first event that has one, so an edge or a
message has the same time in each. Events before the first task switch
carry no time; they are put at 0.
"""


def origin(items):
    """The board time (µs) that the exports call 0."""
    return next((i.t_us for i in items if i.type == "event" and i.t_us is not None), 0)


def since(t_us, t0):
    """µs since the origin t0 (0 for an event without a time)."""
    return 0 if t_us is None else t_us - t0
