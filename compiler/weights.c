/* weights.c — resolves each layer's tensors into cnnc's canonical layout.
 *
 * For every tensor a layer uses (by role: weights, bias, gamma, …) the source
 * is, in order: the layer's own attribute (an inline list, a number, or a
 * .npy file, in the layer's `layout=`), else the `weights` bundle (key
 * `LAYER.weight` etc., in the bundle's layout), else the role's default, else
 * an error.  An inline list is checked by element count, a file by its exact
 * shape.  Torch-layout tensors are then repacked:
 *
 *   conv weights        [F][Cin][KH][KW] → [KH][KW][Cin][F]
 *   dense weights       [out][in]        → [in][out]
 *   per-position bias   [F][OH][OW]      → [OH][OW][F]
 *
 * Without load_weights (--summary, --dump=shapes) tensors are not read: a
 * tensor that would come from a file gets its expected size and no data, so
 * counts stay right; inline values are still checked.  A conv2d bias is the
 * exception, since its size decides whether it is per position: its file is
 * consulted when it can be read (see size_only). */
#include "cnnc.h"

#include <math.h>
#include <string.h>

/* A tensor role as one layer kind uses it. */
typedef struct Use {
    TensorRole role;
    const char *attr;     /* attribute name */
    const char *key;      /* bundle key suffix, NULL if never from the bundle */
    bool required;        /* no default */
} Use;

typedef enum { REPACK_NONE, REPACK_CONV, REPACK_DENSE, REPACK_POSITION } Repack;

/* The shape a source must have, in the source's layout. */
typedef struct Expect {
    int ndims;
    long long dims[4];
    const char *layout;   /* "[F][Cin][KH][KW]" */
    Repack repack;        /* what to do when the source is torch layout */
} Expect;

/* A tensor as found in its source, before repacking. */
typedef struct Found {
    Tensor t;
    bool by_count;        /* inline list or number: only the count is checked */
    bool torch;
    const char *what;     /* for messages: "tensor 'c.weight' in \"w.npz\"" */
    Loc loc;              /* where to report a problem with it */
    bool from_bundle;
    const Value *list;    /* the inline list or number it was read from */
} Found;

static int layer_uses(const Layer *l, Use *u) {
    switch (l->kind) {
    case LAYER_CONV2D:
    case LAYER_DENSE:
        u[0] = (Use){T_WEIGHT, "weights", "weight", true};
        u[1] = (Use){T_BIAS, "bias", "bias", true};
        return l->has_bias ? 2 : 1;
    case LAYER_BATCHNORM:
        u[0] = (Use){T_GAMMA, "gamma", "weight", false};
        u[1] = (Use){T_BETA, "beta", "bias", false};
        u[2] = (Use){T_MEAN, "mean", "running_mean", true};
        u[3] = (Use){T_VAR, "var", "running_var", true};
        return 4;
    case LAYER_NORMALIZE:
        u[0] = (Use){T_MEAN, "mean", NULL, true};
        u[1] = (Use){T_STD, "std", NULL, true};
        return 2;
    case LAYER_RESCALE:
        u[0] = (Use){T_SCALE, "scale", NULL, false};
        u[1] = (Use){T_OFFSET, "offset", NULL, false};
        return 2;
    default:
        return 0;
    }
}

/* rescale's scale/offset and normalize's mean/std may be one number for all. */
static bool broadcasts(const Layer *l, TensorRole role) {
    return role == T_SCALE || role == T_OFFSET || l->kind == LAYER_NORMALIZE;
}

static Expect expect_dims(int n, long long a, long long b, long long c, long long d) {
    return (Expect){.ndims = n, .dims = {a, b, c, d}};
}

static Expect expect_weight(const Layer *l, bool torch) {
    Expect e;
    if (l->kind == LAYER_CONV2D) {
        e = torch ? expect_dims(4, l->filters, l->in.c, l->kh, l->kw)
                  : expect_dims(4, l->kh, l->kw, l->in.c, l->filters);
        e.layout = torch ? "[F][Cin][KH][KW]" : "[KH][KW][Cin][F]";
        e.repack = REPACK_CONV;
    } else {
        long long in = shape_count(l->in);
        e = torch ? expect_dims(2, l->units, in, 0, 0) : expect_dims(2, in, l->units, 0, 0);
        e.layout = torch ? "[out][in]" : "[in][out]";
        e.repack = REPACK_DENSE;
    }
    return e;
}

/* A conv bias of OH*OW*F values is per position (when OH*OW > 1). */
static Expect expect_for(const Layer *l, TensorRole role, bool torch, long long found_count) {
    if (role == T_WEIGHT)
        return expect_weight(l, torch);
    Expect e = expect_dims(1, l->in.c, 0, 0, 0);
    e.layout = "[C]";
    if (role == T_BIAS) {
        e.dims[0] = l->kind == LAYER_CONV2D ? l->filters : l->units;
        e.layout = "[F]";
        long long positions = (long long)l->out.h * l->out.w;
        if (l->kind == LAYER_CONV2D && positions > 1 && found_count == positions * l->filters) {
            e = torch ? expect_dims(3, l->filters, l->out.h, l->out.w, 0)
                      : expect_dims(3, l->out.h, l->out.w, l->filters, 0);
            e.layout = torch ? "[F][OH][OW]" : "[OH][OW][F]";
            e.repack = REPACK_POSITION;
        }
    }
    return e;
}

static long long expect_count(const Expect *e) {
    long long n = 1;
    for (int i = 0; i < e->ndims; i++)
        n *= e->dims[i];
    return n;
}

static const char *dims_str(const long long *dims, int n) {
    const char *s = "(";
    for (int i = 0; i < n; i++)
        s = arena_printf("%s%s%lld", s, i ? ", " : "", dims[i]);
    return arena_printf("%s%s)", s, n == 1 ? "," : "");
}

/* ---- reading sources ---- */

static void from_list(Found *f, const Value *v) {
    bool number = v->kind == VAL_NUMBER;
    long long n = number ? 1 : v->nitems;
    f->t.data = arena_alloc((size_t)(n ? n : 1) * sizeof(float));
    for (long long i = 0; i < n; i++)
        f->t.data[i] = (float)(number ? v->num : v->items[i]);
    f->t.count = n;
    f->t.ndims = 1;
    f->t.dims[0] = n;
    f->by_count = true;
    f->list = v;
}

static bool convert_raw(Found *f, const RawTensor *raw) {
    char err[512];
    if (!raw_to_tensor(raw, &f->t, err, sizeof err)) {
        error_at(f->loc, "%s: %s", f->what, err);
        return false;
    }
    f->t.ndims = raw->ndims;
    memcpy(f->t.dims, raw->dims, sizeof f->t.dims);
    return true;
}

static bool from_npy(Found *f, const Value *v, const WeightsCtx *w) {
    RawTensor raw;
    char err[512];
    if (!npy_load(path_join(w->base_dir, v->str), &raw, err, sizeof err)) {
        error_at(v->loc, "weights file \"%s\": %s", v->str, err);
        return false;
    }
    return convert_raw(f, &raw);
}

static void suggest_key(const Layer *l, const Bundle *b, const char *key) {
    const char **names = arena_alloc((size_t)(b->count + 1) * sizeof *names);
    for (int i = 0; i < b->count; i++)
        names[i] = b->tensors[i].name;
    const char *close = closest_word(key, names, b->count);
    if (close)
        note_at(l->loc, "the bundle has a tensor '%s'", close);
}

/* 1: found, 0: absent (a default applies or it was reported), -1: error. */
static int from_bundle(Found *f, const Layer *l, const Use *u, const WeightsCtx *w) {
    const char *key = arena_printf("%s.%s", l->name, u->key);
    const RawTensor *raw = bundle_find(w->bundle, key);
    if (!raw) {
        if (!u->required)
            return 0;
        error_at(l->loc, "layer '%s' needs the tensor '%s', which \"%s\" does not have%s", l->name, key,
                 w->bundle_path, u->role == T_BIAS ? " (write bias=false if the layer has none)" : "");
        suggest_key(l, w->bundle, key);
        return -1;
    }
    f->what = arena_printf("tensor '%s' in \"%s\"", key, w->bundle_path);
    f->loc = w->bundle_loc;
    f->torch = w->bundle_torch;
    f->from_bundle = true;
    return convert_raw(f, raw) ? 1 : -1;
}

static void report_missing(const Layer *l, const Use *u) {
    if (!u->key)
        error_at(l->loc, "%s layer '%s' needs '%s='", layer_kind_name(l->kind), l->name, u->attr);
    else
        error_at(l->loc, "layer '%s' has no %s: give %s=[...] or %s=\"FILE.npy\", or name a bundle "
                 "in a 'weights' statement%s", l->name, u->role == T_BIAS ? "bias" : u->attr, u->attr,
                 u->attr, u->role == T_BIAS ? ", or write bias=false" : "");
}

/* Finds the source of one tensor: 1 found, 0 absent, -1 error reported. */
static int find_source(Found *f, const Layer *l, const Use *u, const TensorSources *src, const WeightsCtx *w) {
    const Value *v = src->given[u->role];
    if (v) {
        f->torch = src->torch_layout;
        f->loc = v->loc;
        if (v->kind != VAL_STRING) {
            from_list(f, v);
            f->what = arena_printf("'%s' of layer '%s'", u->attr, l->name);
            return 1;
        }
        f->what = arena_printf("'%s' of layer '%s' (\"%s\")", u->attr, l->name, v->str);
        return !w->load ? 0 : from_npy(f, v, w) ? 1 : -1;
    }
    if (u->key && w->has_bundle)   /* without load: size_only; not loaded: reported */
        return !w->load || !w->bundle ? 0 : from_bundle(f, l, u, w);
    if (u->required && (w->load || !u->key)) {
        report_missing(l, u);
        return -1;
    }
    return 0;
}

/* ---- sizes without weights (--summary) ---- */

/* The element count a tensor file declares, or -1 when the file (or the
 * bundle key) cannot be read: without load_weights that is no error. */
static long long declared_count(const Layer *l, const Use *u, const TensorSources *src, const WeightsCtx *w) {
    const Value *v = src->given[u->role];
    RawTensor npy;
    char err[512];
    const RawTensor *raw = NULL;
    if (v && npy_load(path_join(w->base_dir, v->str), &npy, err, sizeof err))
        raw = &npy;
    else if (!v && w->bundle)
        raw = bundle_find(w->bundle, arena_printf("%s.%s", l->name, u->key));
    if (!raw)
        return -1;
    long long n = 1;
    for (int i = 0; i < raw->ndims; i++)
        n *= raw->dims[i];
    return n;
}

/* A tensor that would be read from a file, as its expected size with no
 * data: 1, or 0 when nothing would be read.  A conv2d bias takes the size
 * its file declares when that is OH·OW·F (per position); when the file
 * cannot be read it is assumed to be one per filter (Layer.bias_assumed). */
static int size_only(Found *f, Layer *l, const Use *u, const TensorSources *src, const WeightsCtx *w) {
    const Value *v = src->given[u->role];
    bool from_file = v ? v->kind == VAL_STRING : u->key && u->required && w->has_bundle;
    if (!from_file)
        return 0;
    Expect e = expect_for(l, u->role, false, 0);
    long long n = expect_count(&e);
    if (l->kind == LAYER_CONV2D && u->role == T_BIAS) {
        long long declared = declared_count(l, u, src, w);
        l->bias_assumed = declared < 0;
        if (declared == shape_count(l->out))
            n = declared;
    }
    f->t = (Tensor){.count = n, .ndims = 1, .dims = {n}};
    f->by_count = true;
    return 1;
}

/* ---- checking and repacking ---- */

static bool shape_matches(const Found *f, const Expect *e, bool broadcast) {
    if (broadcast && f->t.count == 1)
        return true;
    if (f->by_count)
        return f->t.count == expect_count(e);
    if (f->t.ndims != e->ndims)
        return false;
    for (int i = 0; i < e->ndims; i++)
        if (f->t.dims[i] != e->dims[i])
            return false;
    return true;
}

/* A problem with a bundle tensor is reported at the bundle's path; this
 * says which layer wanted it. */
static void note_bundle_user(const Layer *l, const Found *f) {
    if (f->from_bundle)
        note_at(l->loc, "needed by layer '%s' here", l->name);
}

/* BROADCAST: one value for all channels would also do. */
static void report_mismatch(const Layer *l, const Found *f, const Expect *e, bool broadcast) {
    const char *layout = e->ndims == 1 ? "" : arena_printf(" (%s layout %s)", f->torch ? "torch" : "keras", e->layout);
    const char *values = f->t.count == 1 ? "value" : "values";
    const char *or_one = broadcast ? " (or 1 for all)" : "";
    if (f->by_count && e->ndims == 1)
        error_at(f->loc, "%s has %lld %s; expected %lld%s", f->what, f->t.count, values, expect_count(e), or_one);
    else if (f->by_count)
        error_at(f->loc, "%s has %lld %s; expected %lld, a %s tensor%s", f->what, f->t.count, values,
                 expect_count(e), dims_str(e->dims, e->ndims), layout);
    else
        error_at(f->loc, "%s has shape %s; expected %s%s%s", f->what, dims_str(f->t.dims, f->t.ndims),
                 dims_str(e->dims, e->ndims), layout, or_one);
    note_bundle_user(l, f);
}

/* Torch order [a][b][c][d…] to canonical, with index arithmetic per case. */
static void repack(Tensor *t, const Expect *e) {
    float *out = arena_alloc((size_t)t->count * sizeof(float));
    const long long *d = e->dims;
    if (e->repack == REPACK_CONV) {            /* [F][Cin][KH][KW] */
        long long F = d[0], C = d[1], KH = d[2], KW = d[3];
        for (long long f = 0; f < F; f++)
            for (long long c = 0; c < C; c++)
                for (long long y = 0; y < KH; y++)
                    for (long long x = 0; x < KW; x++)
                        out[((y * KW + x) * C + c) * F + f] = t->data[((f * C + c) * KH + y) * KW + x];
    } else {                                   /* [A][B] → [B][A], and [F][OH*OW] */
        long long A = d[0], B = t->count / d[0];
        for (long long a = 0; a < A; a++)
            for (long long b = 0; b < B; b++)
                out[b * A + a] = t->data[a * B + b];
    }
    t->data = out;
}

static void set_canonical_dims(Tensor *t, TensorRole role, const Expect *keras) {
    t->ndims = keras->ndims;
    memcpy(t->dims, keras->dims, sizeof keras->dims);
    if (role != T_WEIGHT && role != T_BIAS && t->count == 1 && keras->dims[0] > 1) {
        /* one number for every channel: spread it out */
        float x = t->data[0];
        t->count = keras->dims[0];
        t->data = arena_alloc((size_t)t->count * sizeof(float));
        for (long long i = 0; i < t->count; i++)
            t->data[i] = x;
    }
}

/* Values that cannot become C float constants: NaN or an infinity in a file,
 * or an inline number beyond the float32 range.  Reports the first. */
static bool check_finite(const Layer *l, const Found *f) {
    for (long long i = 0; i < f->t.count; i++) {
        if (isfinite(f->t.data[i]))
            continue;
        if (f->list)
            error_at(f->loc, "%s has %g at index %lld, beyond the float32 range", f->what,
                     f->list->kind == VAL_NUMBER ? f->list->num : f->list->items[i], i);
        else
            error_at(f->loc, "%s has %g at index %lld; weights must be finite float32 values", f->what,
                     (double)f->t.data[i], i);
        note_bundle_user(l, f);
        return false;
    }
    return true;
}

/* Values the layer's formula rejects: a zero std (normalize divides by it),
 * var + epsilon <= 0 (batchnorm divides by its square root). */
static void check_values(const Layer *l, const Found *f, TensorRole role) {
    if (!f->t.data || !check_finite(l, f))
        return;
    for (long long i = 0; i < f->t.count; i++) {
        if (role == T_STD && f->t.data[i] == 0) {
            error_at(f->loc, "%s has a zero at index %lld; normalize divides by it", f->what, i);
            return;
        }
        if (role == T_VAR && (double)f->t.data[i] + l->epsilon <= 0) {
            error_at(f->loc, "%s has %g at index %lld; var + epsilon must be > 0", f->what, (double)f->t.data[i], i);
            note_bundle_user(l, f);
            return;
        }
    }
}

static void resolve_one(Layer *l, const Use *u, const TensorSources *src, const WeightsCtx *w) {
    Found f = {0};
    int found = find_source(&f, l, u, src, w);
    if (found == 0 && !w->load)
        found = size_only(&f, l, u, src, w);
    if (found != 1)
        return;
    Expect e = expect_for(l, u->role, f.torch, f.t.count);
    if (!shape_matches(&f, &e, broadcasts(l, u->role))) {
        report_mismatch(l, &f, &e, broadcasts(l, u->role));
        return;
    }
    check_values(l, &f, u->role);
    if (f.torch && e.repack != REPACK_NONE && f.t.data)   /* size_only has no data */
        repack(&f.t, &e);
    Expect keras = expect_for(l, u->role, false, f.t.count);
    set_canonical_dims(&f.t, u->role, &keras);
    if (keras.repack == REPACK_POSITION) {
        l->per_position_bias = true;
        l->params += shape_count(l->out) - l->filters;
    }
    l->t[u->role] = f.t;
}

/* SPEC 1.6: a dense layer with torch-layout weights after a Keras-order
 * flatten of a real image reads its inputs in the wrong order. */
static void warn_flatten_order(const Layer *l, const TensorSources *src, const WeightsCtx *w,
                               const Layer *flatten) {
    bool given = src->given[T_WEIGHT] != NULL;
    bool torch = given ? src->torch_layout : w->has_bundle && w->bundle_torch;
    if (!flatten || !torch)
        return;
    warning_at(l->loc, "dense layer '%s' has torch-layout weights, but '%s' flattens %s in hwc order; "
               "PyTorch flattens in chw order (write 'flatten order=chw')", l->name, flatten->name,
               shape_str(flatten->in));
    note_at(flatten->loc, "'%s' is here", flatten->name);
}

void resolve_layer_tensors(Layer *l, const TensorSources *src, const WeightsCtx *w, const Layer *hwc_flatten) {
    Use uses[4];
    int n = layer_uses(l, uses);
    for (int i = 0; i < n; i++)
        resolve_one(l, &uses[i], src, w);
    if (l->kind == LAYER_DENSE)
        warn_flatten_order(l, src, w, hwc_flatten);
}
