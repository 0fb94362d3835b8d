# The virtual board's boot, second half: boot.py, main.py, then the REPL.
#
# bootcode.py's -c program exec()s this file's text in a dict of its own
# holding `data` = (the REPL's globals, run main.py?, a note to print
# first, the READY marker, the RESET marker, board_setup.py's path, its
# `data`). board_setup.py runs first, in a dict of its own too, so its
# bytecode is garbage before boot.py starts. Each file
# runs in the REPL's globals, as a board runs main.py, so the REPL shares
# them; the names used here live in the private dict and are all qstrs the
# firmware already has (see board_setup.py).
# ruff: noqa: F821  (data and execfile exist only in that process)

import os
import sys
import time

exec(open(data[5]).read(), {'data': data[6]})  # mount the flash: its files hide the host's
sys.stdout.write(data[3])  # READY: host input flows from now on
try:
    if data[2]:
        print(data[2])
    # One literal, split here: 'boot.py' alone would be interned.
    for f in 'boot.py main.py'.split()[:1 + data[1]]:
        try:
            os.stat(f)
        except OSError:
            continue
        try:
            execfile(f, data[0])
        except SystemExit:
            # sys.exit() / machine.soft_reset(): a board resets. With -i the
            # unix port would carry on into the REPL, so the host restarts
            # the process when it sees RESET.
            sys.stdout.write(data[4])
            while True:
                try:
                    time.sleep(1)
                except BaseException:
                    pass
        except BaseException as e:
            sys.print_exception(e)
except KeyboardInterrupt:
    pass
