"""The board's main.py: start Keep unless safe boot says not to. boot.py has
put the app keep deploy switched in first in sys.path.

Safe boot: a file named SAFEBOOT on the board's flash (create it with
`mpremote fs touch :SAFEBOOT`, or hold the table's SAFEBOOT_PIN low at
reset) skips the kernel and leaves the REPL. Ctrl-C stops a running kernel
and returns to the REPL as well. Kept tiny so it never needs redeploying.
"""

import runtime.boot

runtime.boot.start()
