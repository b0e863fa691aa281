#!/usr/bin/python3
"""make_weights.py — writes seeded random weights for the example networks.

Each network example (mnist, cifar, lenet5, flowers, policy) gets a bundle
next to its .cnn file, in keras layout: conv kernels [KH][KW][Cin][F], dense
[in][out], bias [F] (the policy head's bias is per position, [19][19][1]).
Weights are He-scaled normal (std = sqrt(2 / fan_in)) and biases small, so the
networks compute non-trivial values in tests; they are not trained.

    /usr/bin/python3 examples/make_weights.py            # every example
    /usr/bin/python3 examples/make_weights.py flowers    # just some

flowers.safetensors (about 16 MB) is not committed: the build and test scripts
run this generator for it.
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def conv(rng, name, k, cin, f):
    w = rng.normal(0, np.sqrt(2 / (k * k * cin)), (k, k, cin, f))
    return {name + ".weight": w, name + ".bias": rng.uniform(-0.05, 0.05, f)}


def dense(rng, name, n_in, n_out):
    w = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
    return {name + ".weight": w, name + ".bias": rng.uniform(-0.05, 0.05, n_out)}


def mnist(rng):
    return {**conv(rng, "conv1", 3, 1, 32), **conv(rng, "conv2", 3, 32, 64),
            **conv(rng, "conv3", 3, 64, 64), **dense(rng, "fc1", 3 * 3 * 64, 64),
            **dense(rng, "fc2", 64, 10)}


def cifar(rng):
    return {**conv(rng, "conv1", 3, 3, 32), **conv(rng, "conv2", 3, 32, 64),
            **conv(rng, "conv3", 3, 64, 64), **dense(rng, "fc1", 4 * 4 * 64, 64),
            **dense(rng, "fc2", 64, 10)}


def lenet5(rng):
    return {**conv(rng, "c1", 5, 1, 6), **conv(rng, "c3", 5, 6, 16),
            **dense(rng, "f5", 5 * 5 * 16, 120), **dense(rng, "f6", 120, 84),
            **dense(rng, "f7", 84, 10)}


def flowers(rng):
    return {**conv(rng, "conv1", 3, 3, 16), **conv(rng, "conv2", 3, 16, 32),
            **conv(rng, "conv3", 3, 32, 64), **dense(rng, "fc1", 22 * 22 * 64, 128),
            **dense(rng, "fc2", 128, 5)}


def policy(rng):
    t = conv(rng, "conv1", 5, 48, 64)
    for i in range(2, 13):
        t.update(conv(rng, "conv%d" % i, 3, 64, 64))
    t.update(conv(rng, "head", 1, 64, 1))
    t["head.bias"] = rng.uniform(-0.05, 0.05, (19, 19, 1))
    return t


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "cnnc-example"}}, [], 0
    for name, value in tensors.items():
        data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_npz(path, tensors):
    np.savez(path, **{k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()})


# name: (generator, bundle file, seed)
EXAMPLES = {
    "mnist": (mnist, "mnist.safetensors", 1),
    "cifar": (cifar, "cifar.npz", 2),
    "lenet5": (lenet5, "lenet5.npz", 3),
    "flowers": (flowers, "flowers.safetensors", 4),
    "policy": (policy, "policy.safetensors", 5),
}


def main(names):
    for name in names or EXAMPLES:
        make, filename, seed = EXAMPLES[name]
        tensors = make(np.random.default_rng(seed))
        path = os.path.join(HERE, filename)
        (write_npz if filename.endswith(".npz") else write_safetensors)(path, tensors)
        print("wrote", path)


if __name__ == "__main__":
    main(sys.argv[1:])
