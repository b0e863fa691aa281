"""cnnfile.py — read the subset of the .cnn language the benchmark models use.

The benchmark must feed every peer the very network cnnc compiles, so it reads
the same .cnn file.  This is a second, independent reader (not cnnc's): it
joins continued lines, tokenizes a statement, and infers shapes with SPEC §1.3's
rules.  The result is a flat list of ops (dicts) in a canonical form every peer
understands: images are (C, H, W), conv weights [F][C][KH][KW], dense weights
[out][in] with `in` in the order the preceding flatten produced (torch layout),
explicit paddings (top, bottom, left, right).  It rejects what it does not know
rather than guessing: the bench models are plain CNNs.
"""
import re

TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|[\[\],=:]|[^\s\[\],=:"]+')
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax", "linear")


class CnnError(Exception):
    pass


def strip_comment(line):
    """The line without its `#` comment (a `#` inside a string is kept)."""
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif ch == "#" and not in_string:
            return line[:i]
    return line


def statements(text):
    """Yields (line number, text) per statement: joins `\\` continuations and
    lists that span lines."""
    pending, start, depth = "", 0, 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = strip_comment(raw).rstrip()
        if not pending:
            start = number
        continued = line.endswith("\\")
        if continued:
            line = line[:-1]
        pending += " " + line
        depth += line.count("[") - line.count("]")
        if continued or depth > 0:
            continue
        if pending.strip():
            yield start, pending.strip()
        pending = ""
    if pending.strip():
        yield start, pending.strip()


def parse_value(tokens, i):
    """A value starting at tokens[i]: a word, a string, or a (flattened) list."""
    if tokens[i] != "[":
        return tokens[i], i + 1
    values, depth = [], 0
    while True:
        tok = tokens[i]
        i += 1
        if tok == "[":
            depth += 1
        elif tok == "]":
            depth -= 1
            if depth == 0:
                return values, i
        elif tok != ",":
            values.append(number(tok))


def parse_statement(line, text):
    """(name or None, keyword, positional words, attributes) of one statement."""
    tokens = TOKEN.findall(text)
    name = None
    if len(tokens) > 1 and tokens[1] == ":":
        name, tokens = tokens[0], tokens[2:]
    if not tokens:
        raise CnnError(f"line {line}: empty statement")
    keyword, rest, attrs, i = tokens[0], [], {}, 1
    while i < len(tokens):
        if i + 1 < len(tokens) and tokens[i + 1] == "=":
            attrs[tokens[i]], i = parse_value(tokens, i + 2)
        else:
            rest.append(tokens[i])
            i += 1
    return name, keyword, rest, attrs


def number(word):
    if isinstance(word, (int, float)):
        return word
    if "/" in word:
        a, b = word.split("/")
        return float(a) / float(b)
    return float(word)


def unquote(word):
    if not (isinstance(word, str) and word.startswith('"')):
        return None
    return word[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def pair(word, default=None):
    """`K` or `KHxKW` as a (vertical, horizontal) pair of ints."""
    if word is None:
        return default
    parts = [int(p) for p in str(word).split("x")]
    return (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def resolve_padding(word, size, kernel, stride, dilation):
    """(top, bottom, left, right) for SPEC's padding forms."""
    if word is None or word == "valid":
        return (0, 0, 0, 0)
    if isinstance(word, list):
        return tuple(int(v) for v in word)
    if word == "same":
        pads = []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    ph, pw = pair(word)
    return (ph, ph, pw, pw)


def out_size(n, before, after, k, s, d, what):
    out = (n + before + after - d * (k - 1) - 1) // s + 1
    if out < 1:
        raise CnnError(f"{what}: output size {out} < 1")
    return out


class Reader:
    """Walks the statements, tracking the running shape and op counters."""

    def __init__(self, path, text):
        self.path = path
        self.name = re.sub(r"\W", "_", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        self.shape = None          # ("img", C, H, W) or ("vec", N)
        self.order = "hwc"
        self.bundle = None         # (path string, layout)
        self.ops, self.counts = [], {}
        self.input_shape = None
        for line, text_ in statements(text):
            self.statement(line, *parse_statement(line, text_))

    def statement(self, line, name, keyword, rest, attrs):
        if keyword == "model":
            self.name = rest[0]
        elif keyword == "input":
            self.input(rest[0], attrs)
        elif keyword == "weights":
            self.bundle = (unquote(rest[0]), attrs.get("layout", "keras"))
        else:
            self.layer(line, name, keyword, attrs)

    def input(self, shape, attrs):
        dims = [int(d) for d in shape.split("x")]
        self.order = attrs.get("order", "hwc")
        self.shape = ("img", dims[2], dims[0], dims[1]) if len(dims) == 3 else ("vec", dims[0])
        self.input_shape = self.shape

    def layer(self, line, name, op, attrs):
        self.counts[op] = self.counts.get(op, 0) + 1
        name = name or f"{op}_{self.counts[op]}"
        handler = getattr(self, "layer_" + op, None)
        if handler is None and op in ACTIVATIONS:
            handler = self.layer_activation
        if handler is None:
            raise CnnError(f"{self.path}:{line}: bench reader does not know layer '{op}'")
        op_dict = handler(name, op, attrs)
        if op_dict:
            op_dict.update(name=name, line=line, attrs=attrs)
            self.ops.append(op_dict)

    def need_image(self, name):
        if self.shape[0] != "img":
            raise CnnError(f"{name}: needs an image input")
        return self.shape[1:]

    def layer_conv2d(self, name, op, attrs):
        c, h, w = self.need_image(name)
        k = pair(attrs["kernel"])
        s = pair(attrs.get("stride"), (1, 1))
        d = pair(attrs.get("dilation"), (1, 1))
        pads = resolve_padding(attrs.get("padding"), (h, w), k, s, d)
        oh = out_size(h, pads[0], pads[1], k[0], s[0], d[0], name)
        ow = out_size(w, pads[2], pads[3], k[1], s[1], d[1], name)
        f = int(number(attrs["filters"]))
        self.shape = ("img", f, oh, ow)
        return dict(op="conv", ic=c, ih=h, iw=w, oc=f, oh=oh, ow=ow, k=k, s=s, d=d, pads=pads,
                    act=attrs.get("activation", "linear"), alpha=alpha_of(attrs),
                    has_bias=attrs.get("bias") != "false", macs=oh * ow * f * k[0] * k[1] * c)

    def layer_pool(self, name, kind, attrs):
        c, h, w = self.need_image(name)
        k = pair(attrs.get("size"), (2, 2))
        s = pair(attrs.get("stride"), k)
        pads = resolve_padding(attrs.get("padding"), (h, w), k, s, (1, 1))
        oh = out_size(h, pads[0], pads[1], k[0], s[0], 1, name)
        ow = out_size(w, pads[2], pads[3], k[1], s[1], 1, name)
        self.shape = ("img", c, oh, ow)
        return dict(op="pool", kind=kind, ic=c, ih=h, iw=w, oh=oh, ow=ow, k=k, s=s, pads=pads,
                    count_pad=attrs.get("count_pad") == "true", macs=0)

    def layer_maxpool(self, name, op, attrs):
        return self.layer_pool(name, "max", attrs)

    def layer_avgpool(self, name, op, attrs):
        return self.layer_pool(name, "avg", attrs)

    def layer_global(self, name, kind):
        c, h, w = self.need_image(name)
        self.shape = ("vec", c)
        return dict(op="gpool", kind=kind, c=c, h=h, w=w, macs=0)

    def layer_global_avgpool(self, name, op, attrs):
        return self.layer_global(name, "avg")

    def layer_global_maxpool(self, name, op, attrs):
        return self.layer_global(name, "max")

    def layer_flatten(self, name, op, attrs):
        c, h, w = self.need_image(name)
        self.shape = ("vec", c * h * w)
        return dict(op="flatten", order=attrs.get("order", "hwc"), c=c, h=h, w=w, macs=0)

    def layer_dense(self, name, op, attrs):
        if self.shape[0] != "vec":
            raise CnnError(f"{name}: dense needs a vector (add flatten)")
        n, units = self.shape[1], int(number(attrs["units"]))
        self.shape = ("vec", units)
        return dict(op="dense", n_in=n, n_out=units, act=attrs.get("activation", "linear"),
                    alpha=alpha_of(attrs), has_bias=attrs.get("bias") != "false", macs=n * units)

    def layer_activation(self, name, op, attrs):
        return dict(op="act", kind=op, alpha=alpha_of(attrs, op), shape=self.shape, macs=0)

    def layer_dropout(self, name, op, attrs):
        return None

    def per_channel(self):
        return self.shape[1]

    def layer_rescale(self, name, op, attrs):
        n = self.per_channel()
        return dict(op="affine", kind="rescale", shape=self.shape,
                    scale=broadcast(attrs.get("scale", 1), n), offset=broadcast(attrs.get("offset", 0), n),
                    macs=0)

    def layer_normalize(self, name, op, attrs):
        n = self.per_channel()
        mean, std = broadcast(attrs["mean"], n), broadcast(attrs["std"], n)
        return dict(op="affine", kind="normalize", shape=self.shape, mean=mean, std=std,
                    scale=[1 / v for v in std], offset=[-m / v for m, v in zip(mean, std)], macs=0)

    def layer_batchnorm(self, name, op, attrs):
        return dict(op="batchnorm", shape=self.shape, c=self.per_channel(),
                    epsilon=number(attrs.get("epsilon", 1e-5)), macs=0)


def alpha_of(attrs, kind=None):
    """leaky_relu's slope (PyTorch's default 0.01); 0 for other activations."""
    kind = kind or attrs.get("activation", "linear")
    return number(attrs.get("alpha", 0.01 if kind == "leaky_relu" else 0.0))


def broadcast(value, n):
    if isinstance(value, list):
        if len(value) != n:
            raise CnnError(f"expected {n} values, got {len(value)}")
        return [float(v) for v in value]
    if unquote(value) is not None:
        raise CnnError(".npy rescale/normalize tensors are not supported by the bench reader")
    return [number(value)] * n


def read_cnn(path):
    with open(path, encoding="utf-8") as f:
        reader = Reader(path, f.read())
    if reader.input_shape is None:
        raise CnnError(f"{path}: no input statement")
    return reader
