"""Emulated boards' vendored firmware (emu/ at the repo root)."""
