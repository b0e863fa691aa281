"""report.py — the benchmark's one table, as markdown for stdout and RESULTS.md.

"median µs" is wall-clock time per call; "CPU µs" the median of the process
CPU time per call, which leaves out time spent preempted on a loaded machine.
GFLOP/s counts 2 × MACs (SPEC's --summary rule: every kernel tap of conv and
dense layers, padding included) per median wall-clock call.  "% of peak" is against the
best FMA throughput peak.c measured on this core.  "cnnc speed-up" is a row's
median over the fastest cnnc target's median (a cnnc row counts only when its
error is within SPEC's 1e-4), so 2.00× means cnnc is twice as fast as that row.
"""
import datetime
import json
import os
import subprocess

TOLERANCE = 1e-4


def version_of(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
        return out.splitlines()[0] if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def versions(bench_dir):
    ort = "?"
    try:
        with open(os.path.join(bench_dir, "node_modules", "onnxruntime-node", "package.json")) as f:
            ort = json.load(f)["version"]
    except OSError:
        pass
    return {
        "gcc": version_of(["gcc", "-dumpfullversion"]),
        "oneDNN": version_of(["dpkg-query", "-W", "-f=${Version}", "libdnnl2"]),
        "ONNX Runtime (onnxruntime-node)": ort,
        "PyTorch": version_of(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"]),
        "Node.js": version_of(["node", "--version"]),
    }


def best_cnnc(rows):
    good = good_cnnc(rows)
    return min(good, key=lambda r: r["us"]) if good else None


def fmt_row(row, macs, peak, best):
    if "na" in row:
        return f"| {row['model']} | {row['impl']} | n/a: {row['na']} | | | | | | |"
    gflops = 2 * macs / (row["us"] * 1e3)
    pct = f"{100 * gflops / peak:.1f}%" if peak else "n/a"
    speedup = f"{row['us'] / best['us']:.2f}×" if best else "n/a"
    err = f"{row['err']:.1e}" + ("" if row["err"] <= TOLERANCE else " **over 1e-4**")
    return (f"| {row['model']} | {row['impl']} | {row['us']:.1f} | {row['cpu_us']:.1f} | {gflops:.1f} | {pct} | "
            f"{speedup} | {err} | {row.get('note', '')} |")


def good_cnnc(rows):
    return [r for r in rows if r["impl"].startswith("cnnc") and "us" in r and r["err"] <= TOLERANCE]


def summary_line(model, rows):
    """Best cnnc target vs the fastest peer (textbook loops are no peer here)."""
    cnnc = good_cnnc(rows)
    peers = [r for r in rows if not r["impl"].startswith("cnnc") and "us" in r and r["impl"] != "textbook loops"]
    if not cnnc or not peers:
        return f"- {model}: no comparison (a cnnc row or every peer is n/a)"
    best, fastest = min(cnnc, key=lambda r: r["us"]), min(peers, key=lambda r: r["us"])
    by_cpu = min(r["cpu_us"] for r in peers) / min(r["cpu_us"] for r in cnnc)
    return (f"- {model}: best cnnc ({best['impl']}, {best['us']:.1f} µs) vs fastest peer "
            f"({fastest['impl']}, {fastest['us']:.1f} µs): **{fastest['us'] / best['us']:.2f}×** "
            f"(by CPU time: {by_cpu:.2f}×)")


def compile_table(compile_rows):
    lines = ["| model | target | generated lines | cnnc CPU s | gcc -O2 CPU s | gcc peak MB | object bytes "
             "| instructions per inference |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for c in compile_rows:
        n = c.get("instructions", "n/a")
        lines.append(f"| {c['model']} | {c['target']} | {c['lines']} | {c['cnnc_s']:.2f} | {c['gcc_s']:.1f} | "
                     f"{c['gcc_mb']:.0f} | {c['obj_bytes']} | {n if isinstance(n, str) else f'{n:,}'} |")
    return lines


def rounds_lines(bench):
    """How steady the machine was: the rounds' spread and the hypervisor's steal."""
    lines = []
    spread = [r for r in bench.rows if "spread" in r]
    if spread:
        worst = max(spread, key=lambda r: r["spread"])
        lines.append(f"- Each row is the median of {bench.args.rounds} rounds of {bench.args.seconds:g} s, taken in "
                     f"turn with the model's other rows; the largest spread between a row's rounds "
                     f"((max − min) / median) was {100 * worst['spread']:.0f}% ({worst['model']}, {worst['impl']}).")
    if bench.steal is not None:
        lines.append(f"- Hypervisor steal time during the run: {100 * bench.steal:.1f}% of all CPU time.")
    return lines


def header(bench, cpu, elapsed):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    peak_text = ", ".join(f"{isa} {g:.1f} GFLOP/s" for isa, g in bench.peak.items()) or "n/a"
    load = os.getloadavg()
    title = "single-layer benchmark results (bench/layers/)" if bench.args.layers else "benchmark results"
    lines = [f"# cnnc {title}", "",
             f"- Date: {now}; whole run {elapsed / 60:.1f} min; load average at the end "
             f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) on {os.cpu_count()} cores",
             f"- CPU: {cpu}; pinned to core {bench.cpu} (`taskset`), one thread everywhere, batch 1",
             f"- Measured FMA peak (src/peak.c, one core): {peak_text}",
             "- Versions: " + "; ".join(f"{k} {v}" for k, v in versions(os.path.dirname(__file__)).items()),
             f"- Median of single in-process calls after warm-up, {bench.args.seconds:g} s of timed calls per "
             "configuration (wall clock; CPU µs = median process CPU time per call, which leaves out "
             "preemption by other work on this shared machine); error = max |got − exp| / max(1, |exp|) "
             "against PyTorch in float64.",
             "- Generated code and the textbook loops: gcc -O2 plus the target's -m flags "
             "(auto: -march=native). How each peer is set up, and why: docs/decisions/bench.md."]
    lines += rounds_lines(bench)
    preempted = [r for r in bench.rows if "us" in r and r["us"] > 1.1 * r["cpu_us"] + 1]
    if preempted:
        lines.append(f"- **Other work shared the machine during this run**: in {len(preempted)} rows the "
                     "wall-clock median exceeds the CPU-time median by over 10% (preemption); for those "
                     "rows the CPU µs column is the better estimate.")
    elif max((r.get("spread", 0) for r in bench.rows), default=0) > 0.1:
        lines.append("- Wall-clock and CPU-time medians agree within 10% in every row (no preemption), but "
                     "rounds differ by more than 10%: the machine (shared caches, memory, host) was noisy; "
                     "treat differences within the spread as noise.")
    else:
        lines.append("- Wall-clock and CPU-time medians agree within 10% in every row and rounds within 10%: "
                     "the core was not contended during this run.")
    return lines


def render(bench, cpu, elapsed):
    peak = max(bench.peak.values()) if bench.peak else None
    out = header(bench, cpu, elapsed)
    out += ["", "| model | implementation | median µs | CPU µs | GFLOP/s | % of peak | cnnc speed-up | max error "
            "| notes |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    models = list(dict.fromkeys(r["model"] for r in bench.rows))
    for model in models:
        rows = [r for r in bench.rows if r["model"] == model]
        best = best_cnnc(rows)
        out += [fmt_row(r, bench.macs[model], peak, best) for r in rows]
    out += ["", "cnnc speed-up = the row's median / the fastest cnnc target's median.", "",
            "## Best cnnc target vs the fastest peer", ""]
    out += [summary_line(m, [r for r in bench.rows if r["model"] == m]) for m in models]
    out += ["", "## Compiling the generated C (gcc -O2)", "",
            "Instructions per inference: one call of the model's `_infer`, counted by "
            "`valgrind --tool=callgrind`. Unlike the µs above they do not move with the machine's "
            "load, so they are the figure to compare between runs and commits (fewer is not always "
            "faster: memory stalls do not show). The `neon (qemu)` rows are cross-compiled "
            "(aarch64-linux-gnu-gcc -O2) and not timed: their output is checked against PyTorch under "
            "qemu-aarch64, and their count is the AArch64 instructions one call executes in the model's own "
            "functions, counted by qemu.", ""] + compile_table(bench.compile_rows)
    return "\n".join(out) + "\n"
