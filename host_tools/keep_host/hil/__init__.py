"""Hardware-in-the-loop testing with pytest: the `keep_hil` plugin (plugin.py),
the `dut` fixture's object (dut.Dut), one board per process (session.py),
the console reader (link.py), fault campaigns (campaign.py). docs/hil.md."""

from .dut import Dut, ExpectTimeout, Mark

__all__ = ["Dut", "ExpectTimeout", "Mark"]
