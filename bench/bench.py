"""bench.py — runs every row of the benchmark and writes bench/RESULTS.md.

Called by run.sh after it has installed the peers and built cnnc; it can be
run again on its own (`/usr/bin/python3 bench/bench.py [--models a,b] [--seconds S]`).

For each example model it prepares the shared weights and input (prepare.py),
then measures, single thread, batch 1, in-process, pinned with `taskset`:
cnnc's generated C for every target this CPU runs, oneDNN, ONNX Runtime,
PyTorch and the textbook loops; plus the core's FMA peak.  A row that fails
prints `n/a: reason` and the rest goes on.  Every output is checked against
the float64 PyTorch reference with SPEC §3's measure, |got - exp| / max(1, |exp|).
"""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

import report

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, "out")
BIN = os.path.join(OUT, "bin")
SRC = os.path.join(BENCH, "src")
PYTHON = "/usr/bin/python3"
MODELS = ["lenet5", "mnist", "cifar", "policy", "flowers"]  # the slowest to compile last
LAYERS = os.path.join(BENCH, "layers")   # single layers of bigger networks: --layers

# cnnc targets: gcc flags, and the /proc/cpuinfo flags the CPU needs to run them.
TARGETS = {
    "scalar": ([], []),
    "sse4": (["-msse4.2"], ["sse4_1", "sse4_2"]),
    "avx2": (["-mavx2", "-mfma"], ["avx2", "fma"]),
    "avx512": (["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"],
               ["avx512f", "avx512bw", "avx512dq", "avx512vl"]),
    "auto": (["-march=native"], []),
}


class RowFailed(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, timeout, env=None, cwd=None):
    """stdout of cmd; RowFailed with the last line of stderr when it fails."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise RowFailed(f"timed out after {timeout} s")
    except OSError as e:
        raise RowFailed(str(e))
    if p.returncode != 0:
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        raise RowFailed(f"exit {p.returncode}: {lines[-1][:160] if lines else 'no message'}")
    return p.stdout


def children_cpu_seconds():
    """User + system CPU time of finished child processes (immune to load)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_times():
    """(steal, total) jiffies of all CPUs from /proc/stat: a VM's hypervisor
    steal time is invisible to the per-process CPU clocks."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def steal_share(since):
    """Steal time as a share of all CPU time since `since` (cpu_times()), or None."""
    steal, total = (b - a for a, b in zip(since, cpu_times()))
    return steal / total if total > 0 else None


def cpu_model():
    """lscpu's model name, with family/model (a VM may say only "AMD EPYC")."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(re.findall(r"^([^:\n]+):\s*(.+)$", out, re.M))
    name = fields.get("Model name", platform.processor())
    return f"{name} (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')})"


def qemu_instructions(exe, name, args):
    """AArch64 instructions exe executes in the functions whose names start
    with name + "_" (a static binary), run under qemu-aarch64 -singlestep
    with every executed instruction logged into a pipe and counted."""
    spans = []
    for line in run(["aarch64-linux-gnu-nm", "-S", exe], 60).splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in ("t", "T") and f[3].lower().startswith(name + "_"):
            spans.append((int(f[0], 16), int(f[0], 16) + int(f[1], 16)))
    if not spans:
        raise RowFailed(f"no {name}_ functions in {exe}")
    span = f"0x{min(a for a, _ in spans):x}..0x{max(b for _, b in spans) - 1:x}"
    fifo = exe + ".log"
    if os.path.exists(fifo):
        os.remove(fifo)
    os.mkfifo(fifo)
    counted = []

    def count_lines():
        with open(fifo, "rb") as pipe:
            counted.append(sum(1 for line in pipe if line.startswith(b"Trace")))

    reader = threading.Thread(target=count_lines)
    reader.start()
    try:
        p = subprocess.run(["qemu-aarch64", "-singlestep", "-d", "exec,nochain", "-dfilter", span, "-D", fifo, exe]
                           + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise RowFailed("qemu-aarch64 took over 1800 s")
    finally:
        if reader.is_alive():   # a reader still waiting in open() if qemu never opened the log
            with open(fifo, "wb"):
                pass
        reader.join()
        os.remove(fifo)
    if p.returncode != 0:
        raise RowFailed(f"qemu-aarch64 failed: {p.stderr[-160:]}")
    return counted[0]


class Bench:
    def __init__(self, args):
        self.args = args
        self.cpu = str(args.cpu)
        self.env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                        BENCH_SECONDS=str(args.seconds))
        self.rows, self.compile_rows, self.peak, self.text = [], [], {}, ""
        self.cnnc = os.path.join(OUT, "build", "compiler", "cnnc")

    def pinned(self, cmd):
        return ["taskset", "-c", self.cpu] + cmd

    # ---- tools ------------------------------------------------------------
    def build_tools(self):
        os.makedirs(BIN, exist_ok=True)
        c_flags = ["-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra"]
        builds = {
            "naive": ["gcc"] + c_flags + [os.path.join(SRC, "naive.c"), "-lm"],
            "peak": ["gcc"] + c_flags + [os.path.join(SRC, "peak.c")],
            "onednn": ["g++", "-O2", "-std=c++17", os.path.join(SRC, "onednn.cpp"), "-ldnnl"],
        }
        for name, cmd in builds.items():
            try:
                run(cmd + ["-o", os.path.join(BIN, name)], 300)
            except RowFailed as e:
                log(f"bench: building {name} failed: {e}")

    def measure_peak(self):
        try:
            out = run(self.pinned([os.path.join(BIN, "peak")]), 120)
            self.peak = {m.group(1): float(m.group(2)) for m in re.finditer(r"isa=(\w+) gflops=([\d.]+)", out)}
        except RowFailed as e:
            log(f"bench: FMA peak: n/a: {e}")
        log(f"bench: FMA peak {self.peak}")

    # ---- rows -------------------------------------------------------------
    def timed(self, cmd, timeout=300):
        """(wall median µs, CPU-time median µs, cmd) of a runner's timing line;
        cmd is kept so that later rounds can run it again."""
        out = run(self.pinned(cmd), timeout, env=self.env)
        match = re.search(r"median_us=([\d.]+) min_us=[\d.]+ iters=\d+ cpu_median_us=([\d.]+)", out)
        if not match:
            raise RowFailed("no timing line in output")
        return float(match.group(1)), float(match.group(2)), cmd

    def error(self, model_dir, output_path):
        ref = np.fromfile(os.path.join(model_dir, "ref64.bin"), "<f8")
        got = np.fromfile(output_path, "<f4").astype(np.float64)
        if got.size != ref.size:
            raise RowFailed(f"output has {got.size} values, expected {ref.size}")
        return float(np.max(np.abs(got - ref) / np.maximum(1.0, np.abs(ref))))

    def add_row(self, model, impl, measure):
        """Runs measure() -> ((wall µs, CPU µs), output path, note); records the row."""
        row = dict(model=model, impl=impl)
        try:
            (wall, cpu, cmd), output, note = measure()
            row.update(us=wall, cpu_us=cpu, err=self.error(os.path.join(OUT, "models", model), output), note=note,
                       cmd=cmd, walls=[wall], cpus=[cpu])
            log(f"bench: {model:8} {impl:28} {wall:12.2f} µs (CPU {cpu:.2f})  err {row['err']:.1e}  {note}")
        except RowFailed as e:
            row["na"] = str(e)
            log(f"bench: {model:8} {impl:28} n/a: {e}")
        self.rows.append(row)

    def best_of(self, variants):
        """The fastest of several configurations of one peer: (µs, output, note)."""
        results, failures = [], []
        for name, fn in variants:
            try:
                timing, output = fn()
                results.append((timing, output, name))
            except RowFailed as e:
                failures.append(f"{name}: {e}")
        if not results:
            raise RowFailed("; ".join(failures))
        timing, output, name = min(results)
        others = ", ".join(f"{n} {t[0]:.1f}" for t, _, n in sorted(results) if n != name)
        return timing, output, name + (f" (vs {others})" if others else "")

    def cnnc_row(self, model, meta, target):
        flags, needs = TARGETS[target]
        work = os.path.join(OUT, "gen", model, target)
        os.makedirs(work, exist_ok=True)
        c_file = os.path.join(work, f"{model}.c")
        t0 = children_cpu_seconds()
        run([self.cnnc, os.path.join(OUT, "models", model, "model.cnn"), f"--target={target}", "-o", c_file], 300)
        gen_s = children_cpu_seconds() - t0
        stats = self.compile_stats(c_file, flags)
        stats.update(model=model, target=target, cnnc_s=gen_s)
        self.compile_rows.append(stats)
        name, prefix = meta["name"], meta["name"].upper()
        exe = os.path.join(work, "harness")
        run(["gcc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L"] + flags +
            ["-I", SRC, "-I", work, "-I", os.path.join(ROOT, "runtime"),
             f'-DCNNC_HEADER="{model}.h"', f"-DINFER={name}_infer",
             f"-DIN_SIZE={prefix}_INPUT_SIZE", f"-DOUT_SIZE={prefix}_OUTPUT_SIZE",
             os.path.join(SRC, "harness.c"), stats.pop("object"), "-o", exe, "-lm"], 300)
        output = os.path.join(work, "output.bin")
        stats["instructions"] = self.instructions(exe, model, name, target)
        return self.timed([exe, os.path.join(OUT, "models", model, "input.bin"), output]), output, ""

    def instructions(self, exe, model, name, target):
        """Instructions of one <name>_infer call counted by callgrind: the same
        on a busy machine as on a quiet one, so runs compare where the µs do
        not.  A string says why there is no count (valgrind runs no AVX-512)."""
        if target == "avx512" or (target == "auto" and "avx512f" in cpu_flags()):
            return "n/a: valgrind has no AVX-512"
        out_file = os.path.join(OUT, "runs", f"{model}.{target}.callgrind")
        try:
            run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", f"--toggle-collect={name}_infer",
                 exe, os.path.join(OUT, "models", model, "input.bin"), out_file + ".bin", "once"], 600)
            with open(out_file) as f:
                totals = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
        except (RowFailed, OSError) as e:
            return f"n/a: {e}"
        return int(totals.group(1)) if totals else "n/a: no totals in callgrind's output"

    def neon_row(self, model, meta):
        """The NEON target, which this machine cannot time: cross-compiled
        (its compile cost), its output checked against PyTorch under
        qemu-aarch64, and the instructions one call executes in the model's
        own functions, counted by qemu (-singlestep logs every instruction;
        -dfilter keeps those in the model's address range).  Like callgrind's
        count, a figure that does not move with the machine's load."""
        tools = ["aarch64-linux-gnu-gcc", "aarch64-linux-gnu-nm", "qemu-aarch64"]
        if not all(shutil.which(t) for t in tools):
            log(f"bench: {model:8} cnnc neon (qemu): n/a: needs {', '.join(tools)}")
            return
        work = os.path.join(OUT, "gen", model, "neon")
        os.makedirs(work, exist_ok=True)
        c_file = os.path.join(work, f"{model}.c")
        model_dir = os.path.join(OUT, "models", model)
        try:
            t0 = children_cpu_seconds()
            run([self.cnnc, os.path.join(model_dir, "model.cnn"), "--target=neon", "-o", c_file], 300)
            gen_s = children_cpu_seconds() - t0
            stats = self.compile_stats(c_file, [], cc="aarch64-linux-gnu-gcc")
            stats.update(model=model, target="neon (qemu)", cnnc_s=gen_s)
            name, prefix = meta["name"], meta["name"].upper()
            exe = os.path.join(work, "harness")
            run(["aarch64-linux-gnu-gcc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-static",
                 "-I", SRC, "-I", work, "-I", os.path.join(ROOT, "runtime"), f'-DCNNC_HEADER="{model}.h"',
                 f"-DINFER={name}_infer", f"-DIN_SIZE={prefix}_INPUT_SIZE", f"-DOUT_SIZE={prefix}_OUTPUT_SIZE",
                 os.path.join(SRC, "harness.c"), stats.pop("object"), "-o", exe, "-lm"], 300)
            output = os.path.join(work, "output.bin")
            count = qemu_instructions(exe, name, [os.path.join(model_dir, "input.bin"), output, "once"])
            err = self.error(model_dir, output)
            stats["instructions"] = count if err <= 1e-4 else f"n/a: error {err:.1e} over 1e-4"
        except RowFailed as e:
            log(f"bench: {model:8} cnnc neon (qemu): n/a: {e}")
            return
        log(f"bench: {model:8} cnnc neon (qemu): {stats['instructions']} instructions, err {err:.1e}")
        self.compile_rows.append(stats)

    def compile_stats(self, c_file, flags, cc="gcc"):
        """gcc -O2 of the generated file: CPU seconds, peak RSS, object size."""
        obj = c_file[:-2] + ".o"
        cmd = ["/usr/bin/time", "-v", cc, "-O2", "-std=c11"] + flags + \
              ["-I", os.path.join(ROOT, "runtime"), "-c", c_file, "-o", obj]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=self.args.compile_timeout)
        except subprocess.TimeoutExpired:
            raise RowFailed(f"gcc -O2 took over {self.args.compile_timeout} s")
        if p.returncode != 0:
            lines = [line for line in p.stderr.splitlines() if "error" in line]
            raise RowFailed(f"gcc failed: {lines[0][:160] if lines else p.returncode}")
        user = float(re.search(r"User time \(seconds\): ([\d.]+)", p.stderr).group(1))
        system = float(re.search(r"System time \(seconds\): ([\d.]+)", p.stderr).group(1))
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
        size_out = subprocess.run(["size", obj], capture_output=True, text=True).stdout.splitlines()
        with open(c_file, encoding="utf-8", errors="replace") as f:
            lines = sum(1 for _ in f)
        return dict(lines=lines, gcc_s=user + system, gcc_mb=rss_kb / 1024,
                    obj_bytes=int(size_out[1].split()[3]), object=obj)

    def onednn_variant(self, model, algo):
        model_dir = os.path.join(OUT, "models", model)
        output = os.path.join(OUT, "runs", f"{model}.onednn-{algo}.bin")
        return self.timed([os.path.join(BIN, "onednn"), model_dir,
                           os.path.join(model_dir, "input.bin"), output, algo]), output

    def torch_variant(self, model, variant):
        output = os.path.join(OUT, "runs", f"{model}.torch-{variant}.bin")
        return self.timed([PYTHON, os.path.join(BENCH, "torch_bench.py"),
                           os.path.join(OUT, "models", model), output, variant]), output

    def ort_row(self, model, meta):
        model_dir = os.path.join(OUT, "models", model)
        output = os.path.join(OUT, "runs", f"{model}.ort.bin")
        dims = ",".join(str(d) for d in meta["input_nchw"])
        return self.timed(["node", os.path.join(SRC, "ort.js"), os.path.join(model_dir, "model.onnx"),
                           os.path.join(model_dir, "input_nchw.bin"), dims, output]), output, ""

    def naive_row(self, model):
        model_dir = os.path.join(OUT, "models", model)
        output = os.path.join(OUT, "runs", f"{model}.naive.bin")
        return self.timed([os.path.join(BIN, "naive"), model_dir,
                           os.path.join(model_dir, "input_nchw.bin"), output]), output, ""

    def bench_model(self, model):
        model_dir = os.path.join(OUT, "models", model)
        try:
            run([PYTHON, os.path.join(BENCH, "prepare.py"), model_source(model), model_dir], 600)
        except RowFailed as e:
            log(f"bench: {model}: preparing failed, no rows: {e}")
            return
        with open(os.path.join(model_dir, "meta.json")) as f:
            meta = json.load(f)
        self.macs[model] = meta["macs"]
        flags = cpu_flags()
        for target, (_, needs) in TARGETS.items():
            if all(n in flags for n in needs):
                self.add_row(model, f"cnnc {target}", lambda t=target: self.cnnc_row(model, meta, t))
        self.neon_row(model, meta)
        self.add_row(model, "oneDNN", lambda: self.best_of(
            [(a, lambda a=a: self.onednn_variant(model, a)) for a in ("direct", "auto")]))
        self.add_row(model, "ONNX Runtime", lambda: self.ort_row(model, meta))
        self.add_row(model, "PyTorch", lambda: self.best_of(
            [(v, lambda v=v: self.torch_variant(model, v)) for v in ("frozen", "optimized")]))
        self.add_row(model, "textbook loops", lambda: self.naive_row(model))
        self.more_rounds(model)

    def more_rounds(self, model):
        """Rounds 2..R: every row of the model once more, in turn, so that a
        slow spell of a shared machine hits all rows alike; a row's figure is
        the median of its rounds (spread: (max - min) / median)."""
        rows = [r for r in self.rows if r["model"] == model and "us" in r]
        for _ in range(self.args.rounds - 1):
            for row in rows:
                try:
                    wall, cpu, _ = self.timed(row["cmd"])
                except RowFailed as e:
                    log(f"bench: {model:8} {row['impl']:28} later round failed: {e}")
                    continue
                row["walls"].append(wall)
                row["cpus"].append(cpu)
        for row in rows:
            row["us"], row["cpu_us"] = statistics.median(row["walls"]), statistics.median(row["cpus"])
            row["spread"] = (max(row["walls"]) - min(row["walls"])) / row["us"]
            log(f"bench: {model:8} {row['impl']:28} {row['us']:12.2f} µs over {len(row['walls'])} rounds, "
                f"spread {100 * row['spread']:.0f}%")

    def run_all(self):
        """Every model; the table is rewritten after each, so a run cut short
        still leaves the models it finished."""
        os.makedirs(os.path.join(OUT, "runs"), exist_ok=True)
        self.macs, started, cpu = {}, time.time(), cpu_model()
        self.times_at_start = cpu_times()
        self.build_tools()
        self.measure_peak()
        for model in self.args.models:
            self.bench_model(model)
            self.steal = steal_share(self.times_at_start)
            self.text = report.render(self, cpu, time.time() - started)
            with open(self.args.results, "w") as f:
                f.write(self.text)
        json_name = os.path.splitext(os.path.basename(self.args.results))[0].lower() + ".json"
        with open(os.path.join(OUT, json_name), "w") as f:
            rows = [{k: v for k, v in r.items() if k != "cmd"} for r in self.rows]
            json.dump(dict(rows=rows, compile=self.compile_rows, peak=self.peak, macs=self.macs), f, indent=1)


def model_source(model):
    """examples/MODEL.cnn, or bench/layers/MODEL.cnn for a single-layer benchmark."""
    example = os.path.join(ROOT, "examples", f"{model}.cnn")
    return example if os.path.exists(example) else os.path.join(LAYERS, f"{model}.cnn")


def layer_models():
    return sorted(f[:-4] for f in os.listdir(LAYERS) if f.endswith(".cnn"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated example names")
    parser.add_argument("--layers", action="store_true",
                        help="the single layers of bench/layers/ instead, into bench/LAYERS.md")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per row and round (after warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per model; a row is their median")
    parser.add_argument("--cpu", type=int, default=1 if os.cpu_count() > 1 else 0, help="core to pin to")
    parser.add_argument("--compile-timeout", type=int, default=300, help="seconds allowed for gcc per file")
    parser.add_argument("--results", default=None, help="default bench/RESULTS.md (bench/LAYERS.md with --layers)")
    args = parser.parse_args()
    args.models = layer_models() if args.layers else [m for m in args.models.split(",") if m]
    args.results = args.results or os.path.join(BENCH, "LAYERS.md" if args.layers else "RESULTS.md")
    bench = Bench(args)
    bench.run_all()
    print(bench.text)


if __name__ == "__main__":
    main()
