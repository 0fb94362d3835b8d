"""argparse types for numbers that must make sense: a one-line usage error
(exit 2) instead of a negative timeout or a baud rate of 0 going further."""

import argparse
import math


def _number(kind, text, ok, what):
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    if isinstance(v, float) and not math.isfinite(v) or not ok(v):
        raise argparse.ArgumentTypeError(f"{text} must be {what}")
    return v


def positive_float(text):
    return _number(float, text, lambda v: v > 0, "more than 0")


def nonnegative_float(text):
    return _number(float, text, lambda v: v >= 0, "0 or more")


def positive_int(text):
    return _number(int, text, lambda v: v > 0, "a whole number more than 0")
