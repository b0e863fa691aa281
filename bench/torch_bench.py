"""torch_bench.py — the PyTorch peer.

    torch_bench.py MODEL_DIR OUTPUT.bin frozen|optimized

Builds the model of MODEL_DIR/model.cnn (the same module prepare.py exported
to ONNX) in float32, traces it with TorchScript and then either freezes it
(torch.jit.freeze) or also lets torch.jit.optimize_for_inference rewrite it
(which moves convolutions to oneDNN tensors: PyTorch's own conv heuristic
sends small batch-1 3x3 convolutions to its slow im2col path, and Debian's
build has a generic BLAS).  bench.py runs both and keeps the faster, as a
careful user would.  It times single calls under torch.inference_mode() with
one intra-op and one inter-op thread.
Warm-up, the medians (wall and process CPU time) and the result line follow
src/timing.h.
The Python call overhead (some µs) is part of the number: that is what a
PyTorch user pays per inference.
"""
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import cnnfile  # noqa: E402  (after the thread settings, before any op runs)
import torchnet  # noqa: E402
import weights  # noqa: E402


def samples(fn, budget, most):
    """Sorted wall and process-CPU µs of calls of fn: at least 15, at most
    `most`, within `budget` seconds."""
    wall, cpu, start = [], [], time.perf_counter()
    while len(wall) < 15 or (len(wall) < most and time.perf_counter() - start < budget):
        c0, t0 = time.process_time_ns(), time.perf_counter_ns()
        fn()
        wall.append((time.perf_counter_ns() - t0) / 1e3)
        cpu.append((time.process_time_ns() - c0) / 1e3)
    return sorted(wall), sorted(cpu)


def measure(fn):
    # The CPU clock's own cost, measured on an empty call, is taken off.
    overhead = samples(lambda: None, 0.005, 1001)[1]
    overhead = overhead[len(overhead) // 2]
    warm_start, i = time.perf_counter(), 0
    while i < 5 or time.perf_counter() - warm_start < 0.2:
        fn()
        i += 1
    out = []
    wall, cpu = samples(lambda: out.append(fn()), float(os.environ.get("BENCH_SECONDS", "1")), 20000)
    n = len(wall)
    print(f"median_us={wall[n // 2]:.3f} min_us={wall[0]:.3f} iters={n} cpu_median_us={cpu[n // 2] - overhead:.3f}")
    return out[-1]


def main(model_dir, output_path, variant):
    reader = cnnfile.read_cnn(os.path.join(model_dir, "model.cnn"))
    tensors = weights.resolve(reader, model_dir)
    net = torchnet.Net(reader, tensors, torch.float32).eval()
    with open(os.path.join(model_dir, "meta.json")) as f:
        shape = json.load(f)["input_nchw"]
    x = torch.from_numpy(np.fromfile(os.path.join(model_dir, "input_nchw.bin"), "<f4").reshape(shape))
    with torch.no_grad():
        traced = torch.jit.trace(net, x)
        script = torch.jit.optimize_for_inference(traced) if variant == "optimized" else torch.jit.freeze(traced)
    with torch.inference_mode():
        out = measure(lambda: script(x))
    out.numpy().astype("<f4").tofile(output_path)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("frozen", "optimized"):
        sys.exit("usage: torch_bench.py MODEL_DIR OUTPUT.bin frozen|optimized")
    main(*sys.argv[1:])
