"""One exception root for every failure a user can cause or fix.

The CLI prints a KeepError as one line and exits non-zero; anything else is
a bug in Keep and keeps its traceback.
"""


class KeepError(Exception):
    """A failure the user can act on. str(err) is the one line to show."""

    exit_code = 1


class UsageError(KeepError):
    """Bad command-line input (exit code 2, like argparse)."""

    exit_code = 2
