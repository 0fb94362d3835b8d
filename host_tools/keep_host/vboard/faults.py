"""Link faults: damage the board-to-host console stream on purpose (issue 8).

A real USB/UART link loses, corrupts and (with flaky USB hubs) repeats
bytes. The monitor and deploy must survive that, so the virtual board can do
it on demand: every byte going from the board to the host is, independently
and with a seeded random generator, dropped, bit-flipped (one random bit) or
duplicated at the given rates. Same seed + same byte stream -> same damage,
so a failing run can be replayed.

Invariant: counts["bytes_in"] == bytes offered; counts["bytes_out"] ==
bytes_in - drop + dup (a flipped byte is still one byte).
"""

import random

from ..errors import UsageError

KINDS = ("drop", "flip", "dup")


def parse_spec(spec):
    """'drop=0.001,flip=0.001,dup=0.001' -> {'drop': 0.001, ...}.

    Raises UsageError with one line on anything else.
    """
    rates = dict.fromkeys(KINDS, 0.0)
    if not spec:
        return rates
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in rates:
            raise UsageError(f"bad link fault {part!r}: expected drop=R, flip=R or dup=R")
        try:
            rate = float(value)
        except ValueError:
            raise UsageError(f"bad link fault rate {value!r} for {name}: expected a number")
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"link fault rate {name}={rate} is outside 0..1")
        rates[name] = rate
    if sum(rates.values()) > 1.0:
        raise UsageError("link fault rates add up to more than 1")
    return rates


class LinkFaults:
    """Seeded byte damage with counters. apply(data) -> damaged bytes."""

    def __init__(self, drop=0.0, flip=0.0, dup=0.0, seed=0):
        self.drop, self.flip, self.dup = float(drop), float(flip), float(dup)
        self.seed = seed
        self._rng = random.Random(seed)
        self.counts = {"bytes_in": 0, "bytes_out": 0, "drop": 0, "flip": 0, "dup": 0}

    @classmethod
    def from_spec(cls, spec, seed=0):
        return cls(seed=seed, **parse_spec(spec))

    @property
    def active(self):
        return (self.drop + self.flip + self.dup) > 0.0

    def apply(self, data):
        c = self.counts
        c["bytes_in"] += len(data)
        if not self.active:
            c["bytes_out"] += len(data)
            return bytes(data)
        rnd = self._rng.random
        bit = self._rng.randrange
        # One uniform draw per byte picks at most one fault: [0,drop) drops,
        # [drop,drop+flip) flips, [.., ..+dup) duplicates.
        t_drop = self.drop
        t_flip = t_drop + self.flip
        t_dup = t_flip + self.dup
        out = bytearray()
        for b in data:
            r = rnd()
            if r >= t_dup:
                out.append(b)
            elif r < t_drop:
                c["drop"] += 1
            elif r < t_flip:
                out.append(b ^ (1 << bit(8)))
                c["flip"] += 1
            else:
                out.append(b)
                out.append(b)
                c["dup"] += 1
        c["bytes_out"] += len(out)
        return bytes(out)

    def __repr__(self):
        return (f"LinkFaults(drop={self.drop}, flip={self.flip}, dup={self.dup}, "
                f"seed={self.seed})")
