"""torchnet.py — a bench model as a PyTorch module.

The module is built from the ops of cnnfile.py and the tensors of weights.py,
in float32 (the PyTorch peer, and the graph exported to ONNX) or float64 (the
reference every implementation is checked against).  It takes NCHW input, as
PyTorch users do, and returns the output in the order of cnnc's output buffer:
a vector as is, an image flattened HWC (or CHW with `order=chw`).
"""
import torch
import torch.nn.functional as F
from torch import nn


def activation(kind, alpha, x):
    if kind == "relu":
        return F.relu(x)
    if kind == "relu6":
        return torch.clamp(x, 0.0, 6.0)
    if kind == "leaky_relu":
        return F.leaky_relu(x, alpha)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "tanh":
        return torch.tanh(x)
    if kind == "softmax":
        return torch.softmax(x, dim=1)
    return x


def symmetric(pads):
    return pads[0] == pads[1] and pads[2] == pads[3]


class Conv(nn.Module):
    def __init__(self, op, weight, bias, dtype):
        super().__init__()
        self.op = op
        self.weight = nn.Parameter(torch.tensor(weight, dtype=dtype), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(torch.tensor(bias, dtype=dtype), requires_grad=False)

    def forward(self, x):
        op = self.op
        pt, pb, pl, pr = op["pads"]
        padding = (pt, pl)
        if not symmetric(op["pads"]):
            x, padding = F.pad(x, (pl, pr, pt, pb)), 0
        channel_bias = self.bias if self.bias is not None and self.bias.dim() == 1 else None
        y = F.conv2d(x, self.weight, channel_bias, op["s"], padding, op["d"])
        if self.bias is not None and self.bias.dim() == 3:
            y = y + self.bias.unsqueeze(0)
        return activation(op["act"], op["alpha"], y)


class Pool(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, x):
        op = self.op
        pt, pb, pl, pr = op["pads"]
        if op["kind"] == "max":
            if not symmetric(op["pads"]):
                x, pt, pl = F.pad(x, (pl, pr, pt, pb), value=float("-inf")), 0, 0
            return F.max_pool2d(x, op["k"], op["s"], (pt, pl))
        if op["count_pad"] and not symmetric(op["pads"]):
            x, pt, pl = F.pad(x, (pl, pr, pt, pb)), 0, 0
        if not symmetric((pt, pb, pl, pr)) and (pt or pl):
            raise ValueError(f"{op['name']}: asymmetric avgpool padding without count_pad")
        return F.avg_pool2d(x, op["k"], op["s"], (pt, pl), count_include_pad=op["count_pad"])


class Dense(nn.Module):
    def __init__(self, op, weight, bias, dtype):
        super().__init__()
        self.op = op
        self.weight = nn.Parameter(torch.tensor(weight, dtype=dtype), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(torch.tensor(bias, dtype=dtype), requires_grad=False)

    def forward(self, x):
        return activation(self.op["act"], self.op["alpha"], F.linear(x, self.weight, self.bias))


class Simple(nn.Module):
    """Layers without weights: global pools, flatten, activations."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, x):
        op = self.op
        if op["op"] == "gpool":
            return x.mean(dim=(2, 3)) if op["kind"] == "avg" else x.amax(dim=(2, 3))
        if op["op"] == "flatten":
            if op["order"] == "hwc":
                x = x.permute(0, 2, 3, 1)
            return x.reshape(1, -1)
        return activation(op["kind"], op["alpha"], x)


class Affine(nn.Module):
    """rescale, normalize (y = (x - mean) / std) and batchnorm, per channel."""

    def __init__(self, op, tensors, dtype):
        super().__init__()
        self.op = op
        view = (1, -1, 1, 1) if op["shape"][0] == "img" else (1, -1)
        for key, value in tensors.items():
            self.register_buffer(key, torch.tensor(value, dtype=dtype).reshape(view))

    def forward(self, x):
        if self.op["op"] == "batchnorm":
            return (x - self.mean) / torch.sqrt(self.var + self.op["epsilon"]) * self.gamma + self.beta
        if self.op["kind"] == "normalize":
            return (x - self.mean) / self.std
        return x * self.scale + self.offset


def affine_tensors(op, index, tensors):
    if op["op"] == "batchnorm":
        return {k: tensors[(index, "bn_" + k)] for k in ("gamma", "beta", "mean", "var")}
    if op["kind"] == "normalize":
        return {"mean": op["mean"], "std": op["std"]}
    return {"scale": op["scale"], "offset": op["offset"]}


class Net(nn.Module):
    def __init__(self, reader, tensors, dtype):
        super().__init__()
        self.order = reader.order
        self.layers = nn.ModuleList(self.layer(op, i, tensors, dtype) for i, op in enumerate(reader.ops))

    @staticmethod
    def layer(op, i, tensors, dtype):
        if op["op"] == "conv":
            return Conv(op, tensors[(i, "conv_weight")], tensors.get((i, "bias")), dtype)
        if op["op"] == "dense":
            return Dense(op, tensors[(i, "dense_weight")], tensors.get((i, "bias")), dtype)
        if op["op"] == "pool":
            return Pool(op)
        if op["op"] in ("affine", "batchnorm"):
            return Affine(op, affine_tensors(op, i, tensors), dtype)
        return Simple(op)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1) if self.order == "hwc" else x
        return x.reshape(1, -1)
