"""prepare.py — turn one .cnn into everything the peers need.

    prepare.py MODEL.cnn OUT_DIR

Writes into OUT_DIR:
  model.cnn        the .cnn for cnnc (its file paths made absolute)
  model.onnx       the same network exported from PyTorch (opset 13), NCHW input
  ir.txt, weights.bin  the network for the C/C++ peers (textbook loops, oneDNN):
                   one op per line, `key=value` fields; tensors as float32,
                   torch layout, addressed by float offsets into weights.bin
  input.bin        the input in cnnc's buffer order (HWC, or CHW with order=chw)
  input_nchw.bin   the same values in NCHW, for the peers that take NCHW
  ref64.bin        the float64 PyTorch output (the reference), in cnnc's output order
  meta.json        name, MACs, sizes
All peers therefore read one set of weights and one input.
"""
import json
import os
import re
import sys
import zlib

import numpy as np
import torch

import cnnfile
import torchnet
import weights


def absolute_strings(text, src_dir):
    """Quoted paths that exist next to the source .cnn become absolute."""
    def fix(match):
        path = os.path.join(src_dir, match.group(1))
        return f'"{os.path.abspath(path)}"' if os.path.exists(path) else match.group(0)
    return re.sub(r'"([^"\\]+)"', fix, text)


class IrWriter:
    """Collects the op lines and the float32 blob of ir.txt / weights.bin."""

    def __init__(self):
        self.lines, self.blob, self.offset = [], [], 0

    def tensor(self, arr):
        flat = np.ascontiguousarray(arr, dtype=np.float32).reshape(-1)
        self.blob.append(flat)
        start, self.offset = self.offset, self.offset + flat.size
        return start

    def op(self, opname, **fields):
        self.lines.append(opname + "".join(f" {k}={v}" for k, v in fields.items()))


def image_fields(shape):
    if shape[0] == "img":
        return dict(c=shape[1], h=shape[2], w=shape[3])
    return dict(c=shape[1], h=1, w=1)


def write_ir(reader, tensors, out_dir):
    ir = IrWriter()
    c, h, w = image_fields(reader.input_shape).values()
    ir.op("input", c=c, h=h, w=w)
    for i, op in enumerate(reader.ops):
        write_op(ir, i, op, tensors)
    with open(os.path.join(out_dir, "ir.txt"), "w") as f:
        f.write("\n".join(ir.lines) + "\n")
    blob = np.concatenate(ir.blob) if ir.blob else np.zeros(0, np.float32)
    blob.astype("<f4").tofile(os.path.join(out_dir, "weights.bin"))


def bias_fields(ir, i, tensors):
    bias = tensors.get((i, "bias"))
    if bias is None:
        return dict(bias="none", b=0)
    return dict(bias="position" if bias.ndim == 3 else "channel", b=ir.tensor(bias))


def write_op(ir, i, op, tensors):
    kind = op["op"]
    if kind == "conv":
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = op["k"], op["s"], op["d"], op["pads"]
        ir.op("conv", ic=op["ic"], ih=op["ih"], iw=op["iw"], oc=op["oc"], oh=op["oh"], ow=op["ow"],
              kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw, pt=pt, pb=pb, pl=pl, pr=pr,
              act=op["act"], alpha=op["alpha"], w=ir.tensor(tensors[(i, "conv_weight")]),
              **bias_fields(ir, i, tensors))
    elif kind == "dense":
        ir.op("dense", n_in=op["n_in"], n_out=op["n_out"], act=op["act"], alpha=op["alpha"],
              w=ir.tensor(tensors[(i, "dense_weight")]), **bias_fields(ir, i, tensors))
    elif kind == "pool":
        (kh, kw), (sh, sw), (pt, pb, pl, pr) = op["k"], op["s"], op["pads"]
        ir.op("pool", kind=op["kind"], c=op["ic"], ih=op["ih"], iw=op["iw"], oh=op["oh"], ow=op["ow"],
              kh=kh, kw=kw, sh=sh, sw=sw, pt=pt, pb=pb, pl=pl, pr=pr, count_pad=int(op["count_pad"]))
    elif kind == "gpool":
        ir.op("gpool", kind=op["kind"], c=op["c"], h=op["h"], w=op["w"])
    elif kind == "flatten":
        ir.op("flatten", order=op["order"], c=op["c"], h=op["h"], w=op["w"])
    elif kind == "act":
        ir.op("act", kind=op["kind"], alpha=op["alpha"], **image_fields(op["shape"]))
    else:
        scale, offset = affine_parameters(i, op, tensors)
        ir.op("affine", **image_fields(op["shape"]), scale=ir.tensor(scale), offset=ir.tensor(offset))


def affine_parameters(i, op, tensors):
    """Per-channel (scale, offset): batchnorm folded in float64."""
    if op["op"] == "batchnorm":
        g, b, m, v = (tensors[(i, "bn_" + k)] for k in ("gamma", "beta", "mean", "var"))
        scale = g / np.sqrt(v + op["epsilon"])
        return scale, b - m * scale
    return np.array(op["scale"]), np.array(op["offset"])


def make_input(reader):
    """Seeded input: 0..255 pixels for a model that rescales first, else 0..1."""
    rng = np.random.default_rng(zlib.crc32(reader.name.encode()) + 1)
    first = reader.ops[0]
    high = 255.0 if first["op"] == "affine" and first["kind"] == "rescale" else 1.0
    shape = reader.input_shape
    nchw = (1,) + tuple(shape[1:]) if shape[0] == "img" else (1, shape[1])
    return rng.uniform(0, high, nchw).astype(np.float32)


def user_order(reader, x_nchw):
    if x_nchw.ndim == 4 and reader.order == "hwc":
        return x_nchw.transpose(0, 2, 3, 1)
    return x_nchw


def export_onnx(reader, tensors, x, out_dir):
    net = torchnet.Net(reader, tensors, torch.float32).eval()
    torch.onnx.export(net, (torch.from_numpy(x),), os.path.join(out_dir, "model.onnx"),
                      input_names=["input"], output_names=["output"], opset_version=13)


def prepare(cnn_path, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    src_dir = os.path.dirname(os.path.abspath(cnn_path))
    reader = cnnfile.read_cnn(cnn_path)
    tensors = weights.resolve(reader, src_dir)
    with open(cnn_path, encoding="utf-8") as f:
        text = absolute_strings(f.read(), src_dir)
    with open(os.path.join(out_dir, "model.cnn"), "w", encoding="utf-8") as f:
        f.write(text)
    write_ir(reader, tensors, out_dir)
    x = make_input(reader)
    user_order(reader, x).astype("<f4").tofile(os.path.join(out_dir, "input.bin"))
    x.astype("<f4").tofile(os.path.join(out_dir, "input_nchw.bin"))
    with torch.inference_mode():
        ref = torchnet.Net(reader, tensors, torch.float64)(torch.from_numpy(x.astype(np.float64)))
    ref.numpy().astype("<f8").tofile(os.path.join(out_dir, "ref64.bin"))
    export_onnx(reader, tensors, x, out_dir)
    meta = dict(name=reader.name, macs=sum(op["macs"] for op in reader.ops),
                input_nchw=list(x.shape), output_size=int(ref.numel()))
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f)
    print(f"prepare: {cnn_path}: model {reader.name}, {meta['macs']} MACs, output {meta['output_size']}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: prepare.py MODEL.cnn OUT_DIR")
    try:
        prepare(sys.argv[1], sys.argv[2])
    except cnnfile.CnnError as e:
        sys.exit(f"prepare: {e}")
