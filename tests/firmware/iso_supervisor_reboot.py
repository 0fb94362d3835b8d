# heapsize: 256K
# Disposition reboot with the HAL's own reset, on the unix port: the
# supervisor's reboot ends the process with SystemExit(3), which the
# virtual board restarts, and the next boot reads the cause "soft".
# (iso_supervisor.py checks the supervisor asks for the reboot, on any port.)
# ruff: noqa: E402 (the imports after the check below: on a board the test ends there)
import rig

rig.needs_sim("the HAL's reset ends the unix port's process; a board's would reset the board")

import hal
from iso_util import drain_logs, supervise

from hal.sim import wdt as sw


async def holder(k):
    raise OSError(5)


try:
    supervise([(holder, "fatal", 2)], 20, reboot=hal.load("sim").reset)
    print("no reset?!")
except SystemExit as e:
    sw._cause = None
    print("board reset, exit status", e.args[0], "next boot cause", hal.RESET_NAMES[sw.reset_cause()])
drain_logs()
