"""Start a program with a pty as its controlling terminal (run as a script).

    python -S launch.py TTY PROGRAM [ARGS...]

The virtual board needs the console pty to be the MicroPython process's
controlling terminal: only then does the line discipline turn a Ctrl-C byte
into SIGINT (KeyboardInterrupt in running code), as a board's UART IRQ does.
subprocess cannot make a controlling terminal without preexec_fn (unsafe in
a threaded host), so this tiny trampoline does it: it is started in a new
session, opens the tty by name (a session leader without a controlling
terminal acquires the first tty it opens), makes it stdin/stdout/stderr and
execs the program.
"""

import fcntl
import os
import sys
import termios


def main(argv):
    tty, prog = argv[1], argv[2:]
    if os.getsid(0) != os.getpid():
        os.setsid()
    fd = os.open(tty, os.O_RDWR)
    try:
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    except OSError:
        pass  # already acquired by the open() above
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)
    os.execv(prog[0], prog)


if __name__ == "__main__":
    main(sys.argv)
