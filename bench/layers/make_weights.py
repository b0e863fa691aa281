#!/usr/bin/python3
"""make_weights.py — seeded random weights for the single-layer benchmarks.

Each bench/layers/NAME.cnn names its bundle NAME.npz (torch layout); this
writes the bundles that are missing, with the shapes bench/cnnfile.py reads
from the .cnn: weights He-scaled normal (std = sqrt(2 / fan_in)), biases small.
They are not trained: the layers are timed, not evaluated.

    /usr/bin/python3 bench/layers/make_weights.py   # run by bench/run.sh --layers
"""
import glob
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import cnnfile  # noqa: E402
import weights  # noqa: E402


def bundle_for(reader):
    rng = np.random.default_rng(zlib.crc32(reader.name.encode()))
    tensors = {}
    for _, role, key, _, shape in weights.tensor_specs(reader):
        if role == "bias":
            tensors[key] = rng.uniform(-0.05, 0.05, shape)
        else:
            tensors[key] = rng.normal(0, np.sqrt(2 / np.prod(shape[1:])), shape)
    return {k: v.astype(np.float32) for k, v in tensors.items()}


def main():
    for path in sorted(glob.glob(os.path.join(HERE, "*.cnn"))):
        reader = cnnfile.read_cnn(path)
        rel, layout = reader.bundle
        out = os.path.join(HERE, rel)
        if layout != "torch":
            sys.exit(f"{path}: the generator writes torch layout; say layout=torch")
        if not os.path.exists(out):
            np.savez(out, **bundle_for(reader))
            print(f"make_weights: {out}")


if __name__ == "__main__":
    main()
