# What the tasks log, kept for the test to read: app_* and mono_* tests look
# at the apps' own log lines (a fault report, a summary line) after the run.
from keep import task


def capture():
    """Wrap Handle.log so each text a task logs is also appended to the list
    returned (the trace still gets it)."""
    lines = []
    logged = task.Handle.log

    def log(h, text):
        lines.append(text)
        return logged(h, text)

    task.Handle.log = log
    return lines
