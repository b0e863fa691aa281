"""weights.py — the tensors of a bench model, in one canonical (torch) layout.

Every peer must compute with the same numbers, so this module is the single
source for all peers but cnnc: it reads the very bundle (.safetensors or .npz)
or inline / .npy tensors the .cnn names — the seeded random weights that
examples/make_weights.py writes — exactly as SPEC §1.4 says cnnc does, and
converts them to torch layout.  Layout mistakes on either side show up in the
error column, since cnnc reads the same file on its own.
"""
import json
import os
import struct

import numpy as np

from cnnfile import CnnError, unquote

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base, tensors = 8 + n, {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[base + start:base + end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, np.dtype(SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[key] = arr.reshape(info["shape"]).astype(np.float64)
    return tensors


def load_bundle(path):
    if path.endswith(".safetensors"):
        return load_safetensors(path)
    with np.load(path) as z:
        return {k: z[k].astype(np.float64) for k in z.files}


# Keras layout -> torch layout, per tensor role.
def to_torch(role, arr, layout):
    if layout != "keras":
        return arr
    if role == "conv_weight":
        return arr.transpose(3, 2, 0, 1)
    if role == "dense_weight":
        return arr.T
    if role == "position_bias":
        return arr.transpose(2, 0, 1)
    return arr


def tensor_specs(reader):
    """(op index, role, key, attribute, torch shape) of every tensor the model needs."""
    specs = []
    for i, op in enumerate(reader.ops):
        name = op["name"]
        if op["op"] == "conv":
            specs.append((i, "conv_weight", f"{name}.weight", "weights", (op["oc"], op["ic"]) + op["k"]))
            if op["has_bias"]:
                specs.append((i, "bias", f"{name}.bias", "bias", (op["oc"],)))
        elif op["op"] == "dense":
            specs.append((i, "dense_weight", f"{name}.weight", "weights", (op["n_out"], op["n_in"])))
            if op["has_bias"]:
                specs.append((i, "bias", f"{name}.bias", "bias", (op["n_out"],)))
        elif op["op"] == "batchnorm":
            for key, attr in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "mean"), ("running_var", "var")):
                specs.append((i, "bn_" + attr, f"{name}.{key}", attr, (op["c"],)))
    return specs


def resolve(reader, src_dir):
    """{(op index, role): float64 array in torch layout}."""
    bundle = None
    if reader.bundle:
        rel, layout = reader.bundle
        path = os.path.join(src_dir, rel)
        if not os.path.exists(path):
            raise CnnError(f"weights bundle {path} does not exist (run examples/make_weights.py)")
        bundle = (load_bundle(path), layout)
    return {(i, role): fetch(reader, i, role, key, attr, shape, bundle, src_dir)
            for i, role, key, attr, shape in tensor_specs(reader)}


def fetch(reader, i, role, key, attr, shape, bundle, src_dir):
    op = reader.ops[i]
    value = op["attrs"].get(attr)
    if isinstance(value, list) or unquote(value) is not None:
        layout = op["attrs"].get("layout", "keras")
        arr = np.array(value, np.float64) if isinstance(value, list) else \
            np.load(os.path.join(src_dir, unquote(value))).astype(np.float64)
    elif bundle and key in bundle[0]:
        arr, layout = bundle[0][key], bundle[1]
    elif role == "bn_gamma" or role == "bn_beta":
        return np.ones(shape) if role == "bn_gamma" else np.zeros(shape)
    else:
        raise CnnError(f"tensor {key} not found")
    return canonical(op, role, arr, layout, shape, key)


def canonical(op, role, arr, layout, shape, key):
    if role == "bias" and op["op"] == "conv" and arr.size == op["oc"] * op["oh"] * op["ow"] and arr.size != op["oc"]:
        keras_shape = (op["oh"], op["ow"], op["oc"])
        torch_shape = (op["oc"], op["oh"], op["ow"])
        arr = arr.reshape(keras_shape if layout == "keras" else torch_shape)
        return to_torch("position_bias", arr, layout)
    if arr.size != int(np.prod(shape)):
        raise CnnError(f"tensor {key}: {arr.size} values, expected shape {shape}")
    if role == "conv_weight":
        arr = arr.reshape(op["k"] + (op["ic"], op["oc"]) if layout == "keras" else shape)
    elif role == "dense_weight":
        arr = arr.reshape((op["n_in"], op["n_out"]) if layout == "keras" else shape)
    return to_torch(role, arr, layout).reshape(shape)
