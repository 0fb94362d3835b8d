"""keep tasks: the task table of a running board, over the console."""

import json

from ._console_args import add_port, client

HELP = "list the tasks of a running board: state, priority, generation, restarts, last fault"


def add_arguments(p):
    add_port(p)
    p.add_argument("--json", action="store_true", help="one JSON object per task")


def format_table(rows):
    names = {t.slot: t.name for t in rows}
    head = ("SLOT", "NAME", "STATE", "PRIO", "GEN", "RESTARTS", "LAST FAULT")
    body = [(str(t.slot), t.name, t.state_text(names),
             f"{t.base}" if t.base == t.prio else f"{t.base}->{t.prio}",
             str(t.gen), str(t.restarts), t.fault or "-") for t in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head) - 1)]
    lines = []
    for r in [head, *body]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return "\n".join(lines)


def main(args):
    with client(args) as c:
        rows = c.tasks()
    if args.json:
        for t in rows:
            print(json.dumps({"slot": t.slot, "name": t.name, "state": t.state_name,
                              "peer": t.peer if t.state in (1, 2) else None,
                              "priority": t.base, "effective_priority": t.prio,
                              "generation": t.gen, "restarts": t.restarts,
                              "last_fault": t.fault}))
    else:
        print(format_table(rows))
    return 0
