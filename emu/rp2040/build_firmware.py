#!/usr/bin/env python3
"""Build the MicroPython firmware Keep's emulated Pico runs, from pinned sources.

    emu/rp2040/build_firmware.py                  # clone the sources from GitHub
    emu/rp2040/build_firmware.py --sources DIR    # use git repos already fetched
    emu/rp2040/build_firmware.py --update         # ...and vendor the result
    emu/rp2040/build_firmware.py --frozen-manifest build/frozen/chaos-rpi_pico/manifest.py

Builds MicroPython's `ports/rp2` for `BOARD=RPI_PICO` at the pinned tag and
writes `<build>/RPI_PICO-<tag>.uf2` with its sha256, then compares it with
the UF2 vendored in emu/rp2040/firmware/ (same pin, same bytes: see
PROVENANCE.md there). Everything it writes goes under the build directory
(default emu/rp2040/build/, gitignored); only --update touches the repo.

The one pin is MICROPYTHON below. The submodules' commits are not pinned
here: they are the gitlinks that tag records, exactly what
`git submodule update` would check out, so a later MicroPython is a
one-line change. Only the four submodules RPI_PICO needs are checked out.

--frozen-manifest FILE builds the same firmware with FILE as the port's
frozen manifest (`make FROZEN_MANIFEST=FILE`, what `keep build --image`
passes: an app frozen into flash, docs/freeze.md) and writes
`<build>/RPI_PICO-<tag>-frozen.uf2`; that image is never vendored, so it is
not compared with the vendored one.

Stdlib only; runs with any Python 3.8+. No third-party code is committed:
the sources live only in the build directory.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

# ---- the pin: a later MicroPython is a change of this one line ------------
MICROPYTHON = ("v1.28.0", "e0e9fbb17ed6fd06bb76e266ae554784c9c80804")
# ---------------------------------------------------------------------------

BOARD = "RPI_PICO"
MICROPYTHON_REPO = "micropython/micropython"
# The submodules an RPI_PICO build reads, and the GitHub repo each comes from
# (mbedtls's .gitmodules URL, ARMmbed/mbedtls, now redirects to Mbed-TLS).
SUBMODULES = {
    "lib/pico-sdk": "raspberrypi/pico-sdk",
    "lib/tinyusb": "hathach/tinyusb",
    "lib/mbedtls": "Mbed-TLS/mbedtls",
    "lib/micropython-lib": "micropython/micropython-lib",
}
# pico-sdk 2.x wants picotool for UF2 output and would download it: build
# firmware.bin only and convert it with MicroPython's own tools/uf2conv.py.
CMAKE_ARGS = "-DPICO_NO_PICOTOOL=1"
UF2_FAMILY = "0xe48bff56"  # RP2040
UF2_BASE = "0x10000000"  # XIP flash

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "firmware"
SUMS = VENDORED / "SHA256SUMS"

GITHUB = "https://github.com/%s.git"

# What to install when a tool is missing (Debian package names).
TOOLCHAIN_HINT = "apt-get update && apt-get install"


class BuildError(Exception):
    """A failure the user can fix; main() prints it as one line."""


def say(text):
    print(text, flush=True)


def run(cmd, cwd=None, env=None, log=None):
    """Run cmd; on failure raise BuildError naming it (and the log)."""
    result = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if log is not None:
        log.write("$ %s\n%s" % (" ".join(cmd), result.stdout))
    if result.returncode != 0:
        last = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
        raise BuildError("`%s` failed in %s: %s" % (" ".join(cmd), cwd or ".", last[0]))
    return result.stdout


def git(repo, *args, log=None):
    return run(["git", *args], cwd=repo, log=log).strip()


# ---- toolchain --------------------------------------------------------------


def check_toolchain():
    """Raise BuildError listing, in one line, every Debian package missing."""
    missing = []
    for tool, package in (
        ("git", "git"),
        ("make", "make"),
        ("cmake", "cmake"),
        ("cc", "gcc"),
        ("c++", "g++"),
        ("arm-none-eabi-gcc", "gcc-arm-none-eabi"),
    ):
        if shutil.which(tool) is None:
            missing.append(package)
    if shutil.which("arm-none-eabi-gcc"):
        for lib, package in (
            ("libc.a", "libnewlib-arm-none-eabi"),
            ("libstdc++.a", "libstdc++-arm-none-eabi-newlib"),
        ):
            found = run(["arm-none-eabi-gcc", "-print-file-name=" + lib]).strip()
            if not os.path.isabs(found):
                missing.append(package)
    if missing:
        raise BuildError(
            "missing toolchain: %s (install with: %s %s)"
            % (" ".join(missing), TOOLCHAIN_HINT, " ".join(missing))
        )


def toolchain_versions():
    """One line per tool, for the log and the summary."""
    lines = []
    for cmd in (["arm-none-eabi-gcc", "--version"], ["cmake", "--version"], ["git", "--version"]):
        lines.append(run(cmd).splitlines()[0])
    return lines


# ---- sources ----------------------------------------------------------------


def find_local(sources, repo):
    """The git repo for GitHub `owner/name` under DIR, in any usual layout."""
    owner, name = repo.split("/")
    for candidate in (
        sources / (owner + "+" + name) / "repo",  # the fetch tool's mirrors
        sources / (owner + "+" + name),
        sources / (name + ".git"),
        sources / name,
    ):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    raise BuildError(
        "no git repo for %s under %s (looked for %s+%s/repo, %s.git, %s)"
        % (repo, sources, owner, name, name, name)
    )


def get_objects(dest, repo, commit, sources, tag=None, log=None):
    """Make dest a git repo that holds commit (and tag) without checking out."""
    if sources is not None:
        origin = find_local(sources, repo)
        # --shared borrows the mirror's objects: no copy, no connectivity check
        # (the fetched snapshots lack a few blobs, see checkout()).
        run(["git", "clone", "-q", "--shared", "--no-checkout", str(origin), str(dest)], log=log)
    else:
        origin = GITHUB % repo
        dest.mkdir(parents=True, exist_ok=True)
        git(dest, "init", "-q", log=log)
        git(dest, "fetch", "-q", "--depth", "1", origin, commit, log=log)
        if tag is not None:
            git(dest, "fetch", "-q", "--depth", "1", origin, "+refs/tags/%s:refs/tags/%s" % (tag, tag), log=log)
    kind = subprocess.run(
        ["git", "cat-file", "-t", commit], cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ).stdout.strip()
    if kind != "commit":
        raise BuildError("%s: commit %s not found in %s (check the pin, or fetch a newer copy)" % (repo, commit, origin))
    if tag is not None:
        tagged = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", tag + "^{commit}"],
            cwd=dest, stdout=subprocess.PIPE, text=True,
        ).stdout.strip()
        if tagged != commit:
            raise BuildError(
                "%s: tag %s is %s in %s, but the pin says %s (fix MICROPYTHON in %s)"
                % (repo, tag, tagged or "missing", origin, commit, Path(__file__).name)
            )


def checkout(dest, commit, log=None):
    """Check out commit, leaving out any blob the object store lacks.

    Returns the paths left out. The stored GitHub snapshots miss a few large
    files no RPI_PICO build reads (pico-sdk's RP2350.svd, one generated
    mbedtls test file); a sparse checkout that excludes exactly those keeps
    the tree clean, so MicroPython's banner carries no `-dirty`.
    """
    listing = git(dest, "ls-tree", "-r", "--full-tree", commit)
    blobs = {}
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            blobs.setdefault(sha, []).append(path)
    check = subprocess.run(
        ["git", "cat-file", "--batch-check"], cwd=dest, input="\n".join(blobs) + "\n",
        stdout=subprocess.PIPE, text=True, check=True,
    ).stdout
    absent = sorted(p for line in check.splitlines() if line.endswith(" missing") for p in blobs[line.split()[0]])
    if absent:
        git(dest, "config", "core.sparseCheckout", "true")
        patterns = ["/*"] + ["!/" + glob_escape(p) for p in absent]
        (dest / ".git" / "info").mkdir(exist_ok=True)
        (dest / ".git" / "info" / "sparse-checkout").write_text("\n".join(patterns) + "\n")
    # git warns "invalid object" for the excluded blobs while writing the
    # index; the log keeps that, the exit status is what counts.
    git(dest, "checkout", "-q", "--detach", commit, log=log)
    if git(dest, "status", "--porcelain", "--untracked-files=no"):
        raise BuildError("%s: the checkout of %s is not clean (see the log)" % (dest, commit[:10]))
    return absent


def glob_escape(path):
    return re.sub(r"([*?\[\]\\!#])", r"\\\1", path)


def get_sources(src, sources, log):
    """Check out MicroPython at the pin and its needed submodules at their gitlinks."""
    tag, commit = MICROPYTHON
    mp = src / "micropython"
    say("[1/4] sources: micropython %s (%s) from %s" % (tag, commit[:10], sources or "github.com"))
    get_objects(mp, MICROPYTHON_REPO, commit, sources, tag=tag, log=log)
    report_absent(MICROPYTHON_REPO, checkout(mp, commit, log=log))
    for path, repo in SUBMODULES.items():
        gitlink = git(mp, "rev-parse", "%s:%s" % (commit, path))
        say("      %-20s %s  %s" % (path, gitlink, repo))
        get_objects(mp / path, repo, gitlink, sources, log=log)
        report_absent(repo, checkout(mp / path, gitlink, log=log))
    # What py/makeversionhdr.py will put in the banner: the bare tag, or the
    # build is not the pinned one.
    described = git(mp, "describe", "--tags", "--dirty", "--always", "--match", "v[1-9].*")
    if described != tag:
        raise BuildError("the checkout describes itself as %s, not %s (see the log)" % (described, tag))
    return mp


def report_absent(repo, absent):
    for path in absent:
        say("      (left out %s: %s, absent from the snapshot, not used by the build)" % (repo, path))


# ---- build ------------------------------------------------------------------


def make(target_dir, args, env, log, label):
    """Run make, logging everything; progress every 10 % (cmake) or 10 s."""
    cmd = ["make", "-C", str(target_dir), *args]
    log.write("$ %s\n" % " ".join(cmd))
    log.flush()
    started = last = time.monotonic()
    shown = -10
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = []
    for line in proc.stdout:
        log.write(line)
        tail = (tail + [line.rstrip()])[-1:]
        now = time.monotonic()
        m = re.match(r"\[\s*(\d+)%\]", line)
        if m and int(m.group(1)) >= shown + 10:
            shown = int(m.group(1)) // 10 * 10
            say("      %s %3d%%  %4.0f s" % (label, shown, now - started))
            last = now
        elif not m and now - last >= 10:
            say("      %s ...   %4.0f s" % (label, now - started))
            last = now
    if proc.wait() != 0:
        raise BuildError("%s failed: %s (full output in %s)" % (label, tail[0] if tail else "?", log.name))
    say("      %s done in %.0f s" % (label, time.monotonic() - started))


# MicroPython v1.28's tools/mpy-tool.py freezes ARMv6-M native code (the
# kernel's @micropython.native functions) 2-byte aligned, but the ARMv6-M
# emitter loads 32-bit constants with `ldr rX, [pc, #0]` and so needs its
# code 4-byte aligned (py/asmthumb.c asserts it for code in RAM): a frozen
# native function 2 bytes off loads the wrong word and crashes (rp2040js
# stops on the unaligned read). A frozen build makes mpy-tool.py align
# ARMv6-M native code to 4 bytes, as it does for ARMv6; the banner then
# says -dirty, which is true. Not needed once upstream aligns it.
MPY_TOOL_ALIGN = ("""        if config.native_arch in (
            MP_NATIVE_ARCH_ARMV6,
""", """        if config.native_arch in (
            MP_NATIVE_ARCH_ARMV6,
            MP_NATIVE_ARCH_ARMV6M,  # keep: build_firmware.py --frozen-manifest
""")


def align_frozen_native(mp):
    """Apply MPY_TOOL_ALIGN to the checkout's mpy-tool.py; say what was done."""
    tool = mp / "tools" / "mpy-tool.py"
    text = tool.read_text()
    old, new = MPY_TOOL_ALIGN
    if text.count(old) != 1:
        say("      mpy-tool.py: ARMv6-M alignment patch not applicable (already fixed upstream?)")
        return
    tool.write_text(text.replace(old, new))
    say("      mpy-tool.py: frozen ARMv6-M native code aligned to 4 bytes (see MPY_TOOL_ALIGN)")


def build(mp, jobs, log, frozen_manifest=None):
    tag, commit = MICROPYTHON
    epoch = git(mp, "log", "-1", "--format=%ct", commit)
    env = dict(os.environ)
    for name in ("MICROPY_GIT_TAG", "MICROPY_GIT_HASH", "PICO_SDK_PATH", "PICO_TINYUSB_PATH"):
        env.pop(name, None)  # the banner and paths come from the checkout alone
    # CMAKE_ARGS in the environment, not on make's command line: there it
    # would replace the port Makefile's own `CMAKE_ARGS += -DMICROPY_BOARD...`.
    env.update(SOURCE_DATE_EPOCH=epoch, CMAKE_ARGS=CMAKE_ARGS, TZ="UTC", LC_ALL="C")
    say("[2/4] mpy-cross (about 20 s on 2 cores)")
    make(mp / "mpy-cross", ["-j%d" % jobs], env, log, "mpy-cross")
    say("[3/4] ports/rp2 BOARD=%s, SOURCE_DATE_EPOCH=%s (about 90 s on 2 cores)" % (BOARD, epoch))
    args = ["-j%d" % jobs, "BOARD=" + BOARD]
    if frozen_manifest is not None:
        align_frozen_native(mp)
        say("      FROZEN_MANIFEST=%s" % frozen_manifest)
        args.append("FROZEN_MANIFEST=%s" % frozen_manifest)
    make(mp / "ports" / "rp2", args, env, log, "rp2")
    return mp / "ports" / "rp2" / ("build-" + BOARD) / "firmware.bin"


def to_uf2(mp, firmware_bin, out, log):
    say("[4/4] UF2: tools/uf2conv.py -f %s -b %s" % (UF2_FAMILY, UF2_BASE))
    run(
        [sys.executable, str(mp / "tools" / "uf2conv.py"), "-c", "-f", UF2_FAMILY, "-b", UF2_BASE,
         "-o", str(out), str(firmware_bin)],
        log=log,
    )


# ---- results ----------------------------------------------------------------


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_sums(path):
    """name -> sha256 from a sha256sum-format file ({} if there is none)."""
    sums = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                digest, name = line.split(None, 1)
                sums[name.lstrip("*")] = digest
    return sums


def difference(ours, theirs):
    """Say in a few words where two same-length files differ.

    Each differing byte is widened to the printable text around it, so a
    date or a path that leaked into the build shows up as text.
    """
    a, b = ours.read_bytes(), theirs.read_bytes()
    if len(a) != len(b):
        return "%d bytes against %d" % (len(a), len(b))
    printable = lambda i: 32 <= a[i] < 127 and 32 <= b[i] < 127  # noqa: E731
    spans = []
    for i in range(len(a)):
        if a[i] == b[i] or (spans and i < spans[-1][1]):
            continue
        lo, hi = i, i + 1
        while lo > 0 and printable(lo - 1):
            lo -= 1
        while hi < len(a) and printable(hi):
            hi += 1
        spans.append((lo, hi))
    count = sum(a[i] != b[i] for i in range(len(a)))
    shown = ", ".join(
        "%r built, %r vendored" % (a[lo:hi].decode("latin-1"), b[lo:hi].decode("latin-1"))
        for lo, hi in spans[:3]
    )
    return "%d bytes: %s%s" % (count, shown, " ..." if len(spans) > 3 else "")


def vendor(uf2, digest):
    """Copy the UF2 into emu/rp2040/firmware/ and rewrite SHA256SUMS."""
    sums = read_sums(SUMS)
    for name in list(sums):
        if name.endswith(".uf2") and name != uf2.name:
            del sums[name]
            if (VENDORED / name).exists():
                (VENDORED / name).unlink()
                say("      removed the old %s (git rm it)" % name)
    shutil.copyfile(uf2, VENDORED / uf2.name)
    sums[uf2.name] = digest
    SUMS.write_text("".join("%s  %s\n" % (sums[name], name) for name in sorted(sums)))
    say("      vendored %s and updated %s: now update PROVENANCE.md's pins and commit"
        % (VENDORED / uf2.name, SUMS))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, metavar="DIR",
                        help="directory of git repos already fetched (owner+name/repo, name.git or name); "
                             "default: clone from github.com")
    parser.add_argument("--build-dir", type=Path, default=HERE / "build", metavar="DIR",
                        help="where sources, log and output go (default emu/rp2040/build, gitignored)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--update", action="store_true",
                        help="copy the UF2 into emu/rp2040/firmware/ and rewrite SHA256SUMS")
    parser.add_argument("--frozen-manifest", type=Path, metavar="FILE",
                        help="freeze what this MicroPython manifest lists into the image "
                             "(keep build writes one); output RPI_PICO-<tag>-frozen.uf2, never vendored")
    args = parser.parse_args(argv)
    try:
        if args.sources is not None and not args.sources.is_dir():
            raise BuildError("--sources %s is not a directory" % args.sources)
        frozen = args.frozen_manifest.resolve() if args.frozen_manifest else None
        if frozen is not None and not frozen.is_file():
            raise BuildError("--frozen-manifest %s: no such file (keep build writes one)" % args.frozen_manifest)
        if frozen is not None and args.update:
            raise BuildError("--update vendors the plain firmware only; drop --frozen-manifest or --update")
        check_toolchain()
        started = time.monotonic()
        tag = MICROPYTHON[0]
        build_dir = args.build_dir.resolve()
        src = build_dir / "src"
        if src.exists():
            shutil.rmtree(src)  # every build starts from a fresh checkout
        src.mkdir(parents=True)
        log_path = build_dir / "build.log"
        with open(log_path, "w") as log:
            for line in toolchain_versions():
                say("      " + line)
                log.write(line + "\n")
            sources = args.sources.resolve() if args.sources else None
            mp = get_sources(src, sources, log)
            firmware_bin = build(mp, args.jobs, log, frozen)
            out = build_dir / ("%s-%s%s.uf2" % (BOARD, tag, "-frozen" if frozen else ""))
            to_uf2(mp, firmware_bin, out, log)
        digest = sha256(out)
        (build_dir / (out.name + ".sha256")).write_text("%s  %s\n" % (digest, out.name))
        say("built %s in %.0f s: sha256 %s" % (out, time.monotonic() - started, digest))
        vendored = read_sums(SUMS).get(out.name)
        if frozen is not None:
            say("frozen image (not compared with the vendored firmware): %s" % out)
        elif args.update:
            vendor(out, digest)
        elif vendored is None:
            say("no vendored %s yet: rerun with --update to vendor it" % out.name)
        elif not (VENDORED / out.name).is_file():
            raise BuildError("emu/rp2040/firmware/%s is missing: git checkout it, or --update" % out.name)
        elif vendored == digest:
            say("identical to the vendored emu/rp2040/firmware/%s" % out.name)
        else:
            raise BuildError(
                "differs from the vendored %s (sha256 %s) in %s; see its PROVENANCE.md"
                % (out.name, vendored[:16], difference(out, VENDORED / out.name))
            )
    except BuildError as err:
        print("build_firmware: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
