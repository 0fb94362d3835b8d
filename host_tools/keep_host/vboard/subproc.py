"""Run `keep vboard` as a child process (for tools that want isolation).

    with VBoardProcess(["--flash", d]) as vp:
        vp.url, vp.info["sim_ctl_port"]

The command's first stdout line is the URL, the second a JSON info line;
stop() sends SIGTERM and waits, then SIGKILL as a last resort.
"""

import json
import subprocess
import sys
import threading

from ..errors import KeepError


class VBoardProcess:
    def __init__(self, args=(), timeout=15.0):
        self.args = list(args)
        self.timeout = timeout
        self.proc = None
        self.url = None
        self.info = {}
        self.stderr_lines = []

    def start(self):
        cmd = [sys.executable, "-m", "keep_host", "vboard", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        box = {}

        def first_lines():
            box["url"] = self.proc.stdout.readline().strip()
            box["info"] = self.proc.stdout.readline().strip()

        t = threading.Thread(target=first_lines, daemon=True)
        t.start()
        t.join(self.timeout)
        if not box.get("url"):
            self.stop()
            err = " ".join(self.stderr_lines[-3:]) or "no output"
            raise KeepError(f"keep vboard did not start: {err}")
        self.url = box["url"]
        try:
            self.info = json.loads(box.get("info") or "{}")
        except ValueError:
            self.info = {}
        return self

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr_reader.join(timeout=5)  # its last lines (the stop report) too
        for f in (self.proc.stdout,):
            try:
                f.close()
            except OSError:
                pass
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
