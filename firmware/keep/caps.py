"""Capabilities: which task may send to which, and the badge it carries.

The manifest grants each task a set of peers with a badge per grant; the
kernel stamps that badge on every message so servers authorise by badge,
never by trusting what a client says about itself.

Invariants:
- grants is None (open: any task may send to any, badge 0 — tests and
  the bare kernel) or a list with one dict per slot: {dest_slot: badge}.
  Badge -1 grants notify only (keep/notify.py: a send grant lets a task
  notify that peer too, and a server notify its clients).
- Lookup allocates nothing (dict.get on small ints).
"""

grants = None


def reset():
    global grants
    grants = None


def load(table):
    """Install grants: table[slot] = ((dest_slot, badge), ...)."""
    global grants
    grants = [dict(g) for g in table]


def badge(src, dest):
    """The badge src's messages to dest carry, or -1 when not granted."""
    if grants is None:
        return 0
    return grants[src].get(dest, -1)
