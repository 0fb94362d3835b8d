"""keep deploy: compile, copy what changed, boot the kernel (see docs/deploy.md)."""

HELP = "compile the firmware and an app to .mpy, copy what changed to a board, boot it"


def add_arguments(p):
    p.add_argument("--port", required=True)
    p.add_argument("--app", required=True)
    p.add_argument("--board")


def main(args):
    from ..errors import KeepError

    raise KeepError("not yet")
