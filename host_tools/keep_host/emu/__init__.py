"""The emulated boards: the firmware they run and (later) the emulator runners."""
