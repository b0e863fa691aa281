#!/usr/bin/python3
"""codesize.py — what cnnc's output costs the user's C compiler; writes bench/CODESIZE.md.

    /usr/bin/python3 bench/codesize.py [--models a,b] [--targets t,u] [--unroll m,n]

For every benchmark model (examples/*.cnn) x target x --unroll mode it emits
the C with cnnc, counts its lines and bytes, compiles it with `gcc -O2` (and
with `clang -O2` for target auto) under /usr/bin/time, and reads the object's
text+data with size(1).  Compile cost is wall seconds, CPU seconds (user+sys,
steadier on a shared machine) and peak resident memory.  The goal it checks
(issue 4): every model compiles with gcc -O2 in under 20 s and 1 GB.

Not part of CI.  Needs only gcc, clang, binutils, GNU time and meson/ninja;
builds cnnc in bench/out/codesize-build (release) unless --cnnc is given, and
writes the example weights that are not committed (flowers) first.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
MODELS = ["lenet5", "mnist", "cifar", "flowers", "policy"]
TARGETS = ["scalar", "sse4", "avx2", "avx512", "auto"]
UNROLL = ["auto", "full", "none"]
# The flags a user gives the C compiler for each target (as tests/test_e2e.c).
TARGET_FLAGS = {"scalar": [], "sse4": ["-msse4.1"], "avx2": ["-mavx2", "-mfma"],
                "avx512": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma"],
                "auto": ["-march=native"]}
GOAL_SECONDS, GOAL_MB = 20.0, 1024.0
TIMEOUT_SECONDS = 300   # a compile that runs longer is reported as a timeout
BUDGET_NOTE = "loops kept rolled: unrolled it was"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build_cnnc():
    build = os.path.join(BENCH, "out", "codesize-build")
    if not os.path.isdir(build):
        run(["meson", "setup", build, "--buildtype=release"], cwd=ROOT)
    run(["ninja", "-C", build, "compiler/cnnc"], cwd=ROOT)
    return os.path.join(build, "compiler", "cnnc")


def ensure_weights(models):
    """Runs make_weights.py for models whose weight bundle is missing."""
    missing = []
    for m in models:
        text = open(os.path.join(ROOT, "examples", m + ".cnn")).read()
        bundle = re.search(r'^weights "([^"]+)"', text, re.M)
        if bundle and not os.path.exists(os.path.join(ROOT, "examples", bundle.group(1))):
            missing.append(m)
    if missing:
        run(["/usr/bin/python3", os.path.join(ROOT, "examples", "make_weights.py")] + missing)


def timed_compile(cc, flags, src, obj):
    """(wall s, cpu s, peak MB) of `cc -O2 flags -c src`, via GNU time; None
    after TIMEOUT_SECONDS."""
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", cc, "-O2", "-std=c11", *flags,
           "-I" + os.path.join(ROOT, "runtime"), "-c", src, "-o", obj]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        raise RuntimeError(f"{cc} failed on {src}: {result.stderr[-400:]}")
    wall, user, system, kb = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(kb) / 1024.0


def object_size(obj):
    """text + data of an object file (bss, the static workspace, left out)."""
    fields = run(["size", obj]).stdout.splitlines()[1].split()
    return int(fields[0]) + int(fields[1])


def measure(cnnc, model, target, unroll, workdir):
    src = os.path.join(workdir, f"{model}_{target}_{unroll}.c")
    run([cnnc, os.path.join(ROOT, "examples", model + ".cnn"), "-o", src,
         "--target=" + target, "--unroll=" + unroll])
    text = open(src).read()
    obj = src[:-2] + ".o"
    row = {"model": model, "target": target, "unroll": unroll, "bytes": len(text.encode()),
           "lines": text.count("\n"), "rolled": text.count(BUDGET_NOTE)}
    row["gcc"] = timed_compile("gcc", TARGET_FLAGS[target], src, obj)
    row["object"] = object_size(obj) if row["gcc"] else None
    if target == "auto":
        row["clang"] = timed_compile("clang", TARGET_FLAGS[target], src, obj)
    for path in (src, obj, src[:-2] + ".h"):
        if os.path.exists(path):
            os.remove(path)
    return row


def first_line(cmd):
    try:
        return run(cmd).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return "n/a"


def machine_lines(commit):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    return [f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"cnnc at commit {commit}",
            f"- CPU: {cpu} ({os.cpu_count()} cores); load average at the end "
            f"{os.getloadavg()[0]:.1f}",
            f"- {first_line(['gcc', '--version'])}; {first_line(['clang', '--version'])}",
            "- Compile flags: `-O2 -std=c11` plus the target's (`-msse4.1`; `-mavx2 -mfma`; "
            "`-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma`; `-march=native` for auto)"]


def fmt_compile(c):
    return f"{c[0]:.1f} | {c[1]:.1f} | {c[2]:.0f}" if c else f"> {TIMEOUT_SECONDS} | | "


def table_lines(rows):
    out = ["| model | target | unroll | lines | C bytes | rolled | gcc wall s | gcc CPU s | "
           "gcc MB | object bytes | clang wall s | clang CPU s | clang MB |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        clang = fmt_compile(r["clang"]) if "clang" in r else " | | "
        obj = f"{r['object']:,}" if r["object"] else "n/a"
        out.append(f"| {r['model']} | {r['target']} | {r['unroll']} | {r['lines']:,} | "
                   f"{r['bytes']:,} | {r['rolled']} | {fmt_compile(r['gcc'])} | "
                   f"{obj} | {clang} |")
    return out


def goal_lines(rows):
    """Per model, the worst gcc compile over targets in the default --unroll=auto."""
    out = ["| model | worst gcc CPU s | worst gcc wall s | worst gcc MB | under 20 s and 1 GB |",
           "|---|---:|---:|---:|---|"]
    for m in dict.fromkeys(r["model"] for r in rows):
        auto = [r["gcc"] for r in rows if r["model"] == m and r["unroll"] == "auto"]
        if not auto:
            continue
        if None in auto:
            out.append(f"| {m} | > {TIMEOUT_SECONDS} | | | NO |")
            continue
        cpu, wall, mb = (max(c[i] for c in auto) for i in (1, 0, 2))
        ok = cpu < GOAL_SECONDS and mb < GOAL_MB
        out.append(f"| {m} | {cpu:.1f} | {wall:.1f} | {mb:.0f} | {'yes' if ok else 'NO'} |")
    return out


def write_report(rows, path, commit):
    lines = ["# Code size and compile cost of cnnc's output", "",
             "Written by `/usr/bin/python3 bench/codesize.py` (not part of CI). Per example "
             "model, target and `--unroll` mode: the generated `.c` (lines, bytes), `gcc -O2` "
             "(and `clang -O2` for auto) wall and CPU seconds and peak memory, and the object's "
             "text+data. *rolled* counts functions that `--unroll=auto`'s code-size budget "
             "emitted with rolled loops. Method and decisions: "
             "[docs/decisions/codesize.md](../docs/decisions/codesize.md).", "",
             *machine_lines(commit), "", "## Goal: every model under 20 s and 1 GB with gcc -O2", "",
             "Worst case over the five targets with the default `--unroll=auto` (CPU seconds "
             "judge the goal: wall time depends on what else the machine runs).", "",
             *goal_lines(rows), "", "## Every row", "", *table_lines(rows), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--unroll", default=",".join(UNROLL))
    ap.add_argument("--cnnc", help="a built cnnc (default: build one in bench/out)")
    ap.add_argument("--out", default=os.path.join(BENCH, "CODESIZE.md"))
    args = ap.parse_args()
    models = args.models.split(",")
    cnnc = args.cnnc or build_cnnc()
    ensure_weights(models)
    commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnnc_codesize_") as workdir:
        for m in models:
            for t in args.targets.split(","):
                for u in args.unroll.split(","):
                    rows.append(measure(cnnc, m, t, u, workdir))
                    r = rows[-1]
                    print(f"{m:8} {t:7} {u:5} {r['bytes']:>11,} B  gcc {fmt_compile(r['gcc'])}",
                          flush=True)
                    write_report(rows, args.out, commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
