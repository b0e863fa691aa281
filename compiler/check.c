/* check.c — gives the statements their meaning: AST → checked Model.
 *
 * One walk over the statements in order.  `model`, `input` and `weights`
 * set up the model; every other head is looked up in the operator table
 * (ops.c), its attributes are read against the table row (unknown and
 * duplicate ones are reported, values are checked, defaults applied), the
 * layer is named, and the current activation shape flows through the row's
 * shape rule.  Tensors are then resolved by weights.c.  Every problem is
 * reported and checking goes on: a layer whose input shape is unknown (after
 * a shape error or a syntax error) is still checked statement by statement. */
#include "cnnc.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

typedef struct Checker {
    const Program *prog;
    Model *m;
    VEC(Layer) layers;
    VEC(Loc) name_locs;           /* where each layer's name was given (or its head) */
    const Stmt *model_stmt, *input_stmt, *weights_stmt;
    const Stmt *first_layer;
    bool seen_unknown_head;       /* a mistyped layer: "no layers" would be noise */
    bool shape_known;             /* cur is the input of the next layer */
    bool after_syntax_error;      /* no more shape checking */
    Shape cur;
    int op_counts[LAYER_KIND_COUNT];
    int hwc_flatten;              /* index of a flatten order=hwc of H·W>1 before dense, or -1 */
    WeightsCtx w;
} Checker;

/* What a layer statement's attributes said, beyond the Layer fields. */
typedef struct Draft {
    Layer *l;
    bool pad_same;
    bool shape_ok;        /* every attribute the shape depends on is valid */
    bool tensors_ok;      /* every tensor attribute is well formed */
    bool stride_given;
    const Attr *alpha;
    TensorSources ts;
} Draft;

static const char *val_text(const Value *v) { return v->text ? v->text : "?"; }

/* ---- attributes ---- */

#define MAX_ATTRS 16

static int spec_count(const AttrSpec *specs) {
    int n = 0;
    while (specs[n].name)
        n++;
    return n;
}

static int spec_index(const AttrSpec *specs, const char *name) {
    for (int i = 0; specs[i].name; i++)
        if (!strcmp(specs[i].name, name))
            return i;
    return -1;
}

/* "a, b and c" (or "a, b or c"). */
static const char *word_list(const char *const *words, int n, const char *last_sep) {
    const char *list = words[0];
    for (int i = 1; i < n; i++)
        list = arena_printf("%s%s%s", list, i == n - 1 ? arena_printf(" %s ", last_sep) : ", ", words[i]);
    return list;
}

static void unknown_attr(const Attr *a, const AttrSpec *specs, const char *what) {
    const char *names[MAX_ATTRS];
    int n = spec_count(specs);
    for (int i = 0; i < n; i++)
        names[i] = specs[i].name;
    const char *close = closest_word(a->name, names, n);
    const char *owner = op_owning_attr(a->name);
    if (close)
        error_at(a->loc, "unknown attribute '%s' for %s; did you mean '%s'?", a->name, what, close);
    else if (owner)
        error_at(a->loc, "unknown attribute '%s' for %s ('%s' is an attribute of %s)", a->name, what,
                 a->name, owner);
    else if (n == 0)
        error_at(a->loc, "unknown attribute '%s': %s takes no attributes", a->name, what);
    else
        error_at(a->loc, "unknown attribute '%s' for %s (it takes %s)", a->name, what, word_list(names, n, "and"));
}

/* Reads a statement's attributes into by_spec[i] (the attribute for
 * specs[i], or NULL), reporting unknown and duplicate ones. */
static void collect_attrs(const Stmt *s, const AttrSpec *specs, const char *what, const Attr **by_spec) {
    for (int i = 0; i < MAX_ATTRS; i++)
        by_spec[i] = NULL;
    for (const Attr *a = s->attrs; a; a = a->next) {
        int i = spec_index(specs, a->name);
        if (i < 0) {
            unknown_attr(a, specs, what);
        } else if (by_spec[i]) {
            error_at(a->loc, "duplicate attribute '%s'", a->name);
            note_at(by_spec[i]->loc, "'%s' was first given here", a->name);
        } else {
            by_spec[i] = a;
        }
    }
}

/* Every size, stride and padding is at most this, so that shape arithmetic
 * stays far from int overflow. */
#define MAX_SIZE (1 << 24)

static bool is_pos_int(const Value *v) { return v->kind == VAL_NUMBER && v->is_int && v->num >= 1 && v->num <= MAX_SIZE; }

static bool read_pos_int(const Attr *a, int *out) {
    const Value *v = &a->val;
    if (v->kind == VAL_NUMBER && v->is_int && v->num > MAX_SIZE) {
        error_at(v->loc, "'%s' is too large: %s (at most %d)", a->name, val_text(v), MAX_SIZE);
        return false;
    }
    if (!is_pos_int(v)) {
        error_at(v->loc, "'%s' must be a positive integer, not '%s'", a->name, val_text(v));
        return false;
    }
    *out = (int)a->val.num;
    return true;
}

static bool dims_in_range(const Value *v, int lo) {
    for (int i = 0; i < v->ndims; i++)
        if (v->dims[i] < lo || v->dims[i] > MAX_SIZE)
            return false;
    return true;
}

/* K or KHxKW. */
static bool read_pair(const Attr *a, int *h, int *w) {
    const Value *v = &a->val;
    if (is_pos_int(v)) {
        *h = *w = (int)v->num;
        return true;
    }
    if (v->kind == VAL_SHAPE && v->ndims == 2 && dims_in_range(v, 1)) {
        *h = v->dims[0];
        *w = v->dims[1];
        return true;
    }
    error_at(v->loc, "'%s' takes a positive integer N or NxM, not '%s'", a->name, val_text(v));
    return false;
}

static bool is_nonneg_int(double x) { return x >= 0 && x <= MAX_SIZE && x == floor(x); }

static bool read_padding_list(const Value *v, Layer *l) {
    if (v->nitems != 4)
        return false;
    for (int i = 0; i < 4; i++)
        if (!is_nonneg_int(v->items[i]))
            return false;
    l->pad_top = (int)v->items[0];
    l->pad_bottom = (int)v->items[1];
    l->pad_left = (int)v->items[2];
    l->pad_right = (int)v->items[3];
    return true;
}

/* valid | same | P | PHxPW | [top, bottom, left, right]. */
static bool read_padding(const Attr *a, Layer *l, bool *same) {
    const Value *v = &a->val;
    if (v->kind == VAL_IDENT && (!strcmp(v->str, "valid") || !strcmp(v->str, "same"))) {
        *same = !strcmp(v->str, "same");
        return true;
    }
    if (v->kind == VAL_NUMBER && v->is_int && is_nonneg_int(v->num)) {
        l->pad_top = l->pad_bottom = l->pad_left = l->pad_right = (int)v->num;
        return true;
    }
    if (v->kind == VAL_SHAPE && v->ndims == 2 && dims_in_range(v, 0)) {
        l->pad_top = l->pad_bottom = v->dims[0];
        l->pad_left = l->pad_right = v->dims[1];
        return true;
    }
    if (v->kind == VAL_LIST && read_padding_list(v, l))
        return true;
    error_at(v->loc, "'padding' takes valid, same, P, PHxPW or [top, bottom, left, right] "
             "with integers >= 0, not '%s'", val_text(v));
    return false;
}

/* An identifier out of a fixed set; suggests the closest on a typo. */
static bool read_choice(const Attr *a, const char *const *choices, int n, int *out) {
    const Value *v = &a->val;
    if (v->kind == VAL_IDENT)
        for (int i = 0; i < n; i++)
            if (!strcmp(v->str, choices[i])) {
                *out = i;
                return true;
            }
    const char *close = v->kind == VAL_IDENT ? closest_word(v->str, choices, n) : NULL;
    if (close)
        error_at(v->loc, "unknown %s '%s'; did you mean '%s'?", a->name, val_text(v), close);
    else
        error_at(v->loc, "'%s' takes %s, not '%s'", a->name, word_list(choices, n, "or"), val_text(v));
    return false;
}

static bool read_bool(const Attr *a, bool *out) {
    static const char *const choices[] = {"false", "true"};
    int i;
    if (!read_choice(a, choices, 2, &i))
        return false;
    *out = i == 1;
    return true;
}

/* A number in [lo, hi). */
static bool read_number(const Attr *a, double lo, double hi, const char *range, double *out) {
    const Value *v = &a->val;
    if (v->kind == VAL_NUMBER && v->num >= lo && v->num < hi) {
        *out = v->num;
        return true;
    }
    error_at(v->loc, "'%s' must be a number%s, not '%s'", a->name, range, val_text(v));
    return false;
}

/* A tensor attribute: an inline list, or a string naming a .npy file (and
 * for AK_NUM_TENSOR also a number). */
static bool read_tensor(const Attr *a, bool number_ok, Draft *d, TensorRole role) {
    const Value *v = &a->val;
    if (v->kind == VAL_STRING && !ends_with(v->str, ".npy")) {
        error_at(v->loc, "'%s' names the file \"%s\", but only .npy files hold a single tensor "
                 "(name a bundle in the 'weights' statement)", a->name, v->str);
        return false;
    }
    if (v->kind == VAL_LIST || v->kind == VAL_STRING || (number_ok && v->kind == VAL_NUMBER)) {
        d->ts.given[role] = v;
        return true;
    }
    error_at(v->loc, "'%s' takes %sa list [...] or a .npy file name in quotes, not '%s'", a->name,
             number_ok ? "a number, " : "", val_text(v));
    return false;
}

static bool read_bias(const Attr *a, Draft *d) {
    const Value *v = &a->val;
    if (v->kind == VAL_IDENT)
        return read_bool(a, &d->l->has_bias);
    d->l->has_bias = true;
    return read_tensor(a, false, d, T_BIAS);
}

/* ---- layers ---- */

static void set_defaults(Layer *l) {
    l->sh = l->sw = l->dh = l->dw = 1;
    if (l->kind == LAYER_MAXPOOL || l->kind == LAYER_AVGPOOL)
        l->kh = l->kw = 2;
    l->has_bias = l->kind == LAYER_CONV2D || l->kind == LAYER_DENSE;
    l->alpha = 0.01f;
    l->epsilon = 1e-5f;
    static const struct { LayerKind kind; ActKind act; } own_act[] = {
        {LAYER_RELU, ACT_RELU}, {LAYER_RELU6, ACT_RELU6}, {LAYER_LEAKY_RELU, ACT_LEAKY_RELU},
        {LAYER_SIGMOID, ACT_SIGMOID}, {LAYER_TANH, ACT_TANH}, {LAYER_SOFTMAX, ACT_SOFTMAX}};
    l->act = ACT_LINEAR;
    for (size_t i = 0; i < sizeof own_act / sizeof *own_act; i++)
        if (own_act[i].kind == l->kind)
            l->act = own_act[i].act;
}

/* Sizes and strides: a bad one leaves the output shape unknown. */
static bool apply_shape_attr(Draft *d, const Attr *a) {
    Layer *l = d->l;
    const char *n = a->name;
    if (!strcmp(n, "filters"))
        return read_pos_int(a, &l->filters);
    if (!strcmp(n, "units"))
        return read_pos_int(a, &l->units);
    if (!strcmp(n, "kernel") || !strcmp(n, "size"))
        return read_pair(a, &l->kh, &l->kw);
    if (!strcmp(n, "stride")) {
        d->stride_given = true;
        return read_pair(a, &l->sh, &l->sw);
    }
    if (!strcmp(n, "dilation"))
        return read_pair(a, &l->dh, &l->dw);
    return read_padding(a, l, &d->pad_same);
}

/* activation, layout, order: a word out of a fixed set. */
static void apply_choice_attr(Draft *d, const AttrSpec *spec, const Attr *a) {
    static const char *const layouts[] = {"keras", "torch"}, *const orders[] = {"hwc", "chw"};
    int i;
    if (spec->kind == AK_ACT && read_choice(a, act_names, ACT_SOFTMAX + 1, &i))
        d->l->act = (ActKind)i;
    else if (spec->kind == AK_LAYOUT && read_choice(a, layouts, 2, &i))
        d->ts.torch_layout = i == 1;
    else if (spec->kind == AK_ORDER && read_choice(a, orders, 2, &i))
        d->l->flatten_chw = i == 1;
}

/* alpha, epsilon, dropout rate (checked, then ignored). */
static void apply_number_attr(Draft *d, const Attr *a) {
    double x;
    if (!strcmp(a->name, "alpha")) {
        d->alpha = a;
        if (read_number(a, -HUGE_VAL, HUGE_VAL, "", &x))
            d->l->alpha = (float)x;
    } else if (!strcmp(a->name, "epsilon")) {
        if (read_number(a, 0, HUGE_VAL, " >= 0", &x))
            d->l->epsilon = (float)x;
    } else {
        read_number(a, 0, 1, " in [0, 1)", &x);
    }
}

static void apply_attr(Draft *d, const AttrSpec *spec, const Attr *a) {
    switch (spec->kind) {
    case AK_POS_INT: case AK_PAIR: case AK_PADDING:
        d->shape_ok &= apply_shape_attr(d, a);
        break;
    case AK_BOOL: read_bool(a, &d->l->count_pad); break;
    case AK_BIAS: d->tensors_ok &= read_bias(a, d); break;
    case AK_TENSOR: d->tensors_ok &= read_tensor(a, false, d, spec->role); break;
    case AK_NUM_TENSOR: d->tensors_ok &= read_tensor(a, true, d, spec->role); break;
    case AK_ACT: case AK_LAYOUT: case AK_ORDER: apply_choice_attr(d, spec, a); break;
    case AK_NUMBER: apply_number_attr(d, a); break;
    }
}

static void require_attr(Draft *d, const Stmt *s, const Attr **by_spec, const char *name) {
    int i = spec_index(op_info(d->l->kind)->attrs, name);
    if (!by_spec[i]) {
        error_at(s->head_loc, "%s needs '%s='", s->head, name);
        d->shape_ok = false;
    }
}

/* A layer's layout= describes only its inline and .npy tensors (SPEC 1.6):
 * said with none, it is most likely meant for the bundle. */
static void warn_idle_layout(const Draft *d, const AttrSpec *specs, const Attr **by_spec) {
    int i = spec_index(specs, "layout");
    if (i < 0 || !by_spec[i] || d->ts.given[T_WEIGHT] || d->ts.given[T_BIAS])
        return;
    warning_at(by_spec[i]->loc, "'layout' of layer '%s' has no effect: it applies to tensors given inline "
               "or as .npy, and a bundle's layout is set in its 'weights' statement", d->l->name);
}

static void read_layer_attrs(Draft *d, const Stmt *s) {
    Layer *l = d->l;
    const AttrSpec *specs = op_info(l->kind)->attrs;
    const Attr *by_spec[MAX_ATTRS];
    collect_attrs(s, specs, s->head, by_spec);
    for (int i = 0; specs[i].name; i++)
        if (by_spec[i])
            apply_attr(d, &specs[i], by_spec[i]);
    if (l->kind == LAYER_CONV2D) {
        require_attr(d, s, by_spec, "filters");
        require_attr(d, s, by_spec, "kernel");
    } else if (l->kind == LAYER_DENSE) {
        require_attr(d, s, by_spec, "units");
    }
    if ((l->kind == LAYER_MAXPOOL || l->kind == LAYER_AVGPOOL) && !d->stride_given) {
        l->sh = l->kh;
        l->sw = l->kw;
    }
    if (d->alpha && (l->kind == LAYER_CONV2D || l->kind == LAYER_DENSE) && l->act != ACT_LEAKY_RELU)
        error_at(d->alpha->loc, "'alpha' applies only with activation=leaky_relu");
    warn_idle_layout(d, specs, by_spec);
}

static void no_bare_values(const Stmt *s, int allowed) {
    for (int i = allowed; i < s->nargs; i++)
        error_at(s->args[i].loc, "unexpected '%s' after '%s'; attributes are written name=value",
                 val_text(&s->args[i]), s->head);
}

/* ---- names ---- */

static char *c_name(const char *name) {
    char *c = arena_strdup(name);
    for (char *p = c; *p; p++)
        if (*p == '.')
            *p = '_';
    return c;
}

static void name_layer(Checker *c, Layer *l, const Stmt *s) {
    int k = ++c->op_counts[l->kind];
    l->name = s->label ? s->label : arena_printf("%s_%d", layer_kind_name(l->kind), k);
    l->cname = c_name(l->name);
    Loc here = s->label ? s->label_loc : s->head_loc;
    vec_push(&c->name_locs, here);
    for (int i = 0; i < c->layers.len; i++) {
        const Layer *o = &c->layers.items[i];
        if (!strcmp(o->name, l->name)) {
            error_at(here, "layer name '%s' is already used", l->name);
            note_at(c->name_locs.items[i], "'%s' was first defined here", o->name);
            return;
        }
        if (!strcmp(o->cname, l->cname)) {
            error_at(here, "layer names '%s' and '%s' clash in C: both become '%s'", o->name, l->name, l->cname);
            note_at(c->name_locs.items[i], "'%s' was defined here", o->name);
            return;
        }
    }
}

/* ---- shape flow ---- */

static void flow_shape(Checker *c, Draft *d) {
    Layer *l = d->l;
    if (!c->shape_known || !d->shape_ok) {
        /* A dense layer's output does not depend on its input: shapes are
         * known again after it. */
        c->shape_known = !c->after_syntax_error && d->shape_ok && l->kind == LAYER_DENSE;
        if (c->shape_known)
            l->out = c->cur = shape_vector(l->units);
        return;
    }
    l->in = c->cur;
    c->shape_known = op_info(l->kind)->infer(l, d->pad_same);
    c->cur = l->out;
    if (!c->shape_known || !d->tensors_ok)
        return;
    const Layer *flatten = NULL;
    if (l->kind == LAYER_DENSE && c->hwc_flatten >= 0)
        flatten = &c->layers.items[c->hwc_flatten];
    resolve_layer_tensors(l, &d->ts, &c->w, flatten);
}

static void track_flatten(Checker *c, const Layer *l) {
    if (l->kind == LAYER_FLATTEN)
        c->hwc_flatten = !l->flatten_chw && l->in.rank == 3 && l->in.h * l->in.w > 1 ? c->layers.len : -1;
    else if (l->kind == LAYER_DENSE)
        c->hwc_flatten = -1;
}

static void check_layer(Checker *c, const Stmt *s, LayerKind kind) {
    if (!c->first_layer)
        c->first_layer = s;
    if (s->after_syntax_error)
        c->after_syntax_error = true;
    if (c->after_syntax_error)
        c->shape_known = false;
    Layer l = {.kind = kind, .loc = s->head_loc, .line = s->loc.line};
    Draft d = {.l = &l, .shape_ok = true, .tensors_ok = true};
    set_defaults(&l);
    name_layer(c, &l, s);
    read_layer_attrs(&d, s);
    no_bare_values(s, 0);
    flow_shape(c, &d);
    track_flatten(c, &l);
    vec_push(&c->layers, l);
}

/* ---- model-level statements ---- */

static void before_layers(const Checker *c, const Stmt *s) {
    if (!c->first_layer)
        return;
    error_at(s->head_loc, "'%s' must come before the first layer", s->head);
    note_at(c->first_layer->head_loc, "the first layer is here");
}

static bool once(const Stmt *s, const Stmt **seen) {
    if (*seen) {
        error_at(s->head_loc, "a second '%s' statement", s->head);
        note_at((*seen)->head_loc, "the first '%s' is here", s->head);
        return false;
    }
    *seen = s;
    return true;
}

static void no_label(const Stmt *s) {
    if (s->label)
        error_at(s->label_loc, "'%s' statement cannot have a name", s->head);
}

static void check_model(Checker *c, const Stmt *s) {
    static const AttrSpec none[] = {{NULL, 0, 0}};
    const Attr *by_spec[MAX_ATTRS];
    no_label(s);
    collect_attrs(s, none, "model", by_spec);
    if (!once(s, &c->model_stmt))
        return;
    if (s->nargs < 1 || s->args[0].kind != VAL_IDENT || strchr(s->args[0].str, '.'))
        error_at(s->nargs ? s->args[0].loc : s->head_loc, "'model' needs a name (an identifier)");
    else
        c->m->name = s->args[0].str;
    no_bare_values(s, 1);
}

/* N or HxWxC with every size >= 1 and one above MAX_SIZE. */
static bool size_too_large(const Value *v) {
    if (v->kind == VAL_NUMBER)
        return v->is_int && v->num > MAX_SIZE;
    if (v->kind != VAL_SHAPE || v->ndims != 3)
        return false;
    bool over = false;
    for (int i = 0; i < 3; i++) {
        if (v->dims[i] < 1)
            return false;
        over |= v->dims[i] > MAX_SIZE;
    }
    return over;
}

static bool read_input_shape(Checker *c, const Value *v) {
    if (v->kind == VAL_SHAPE && v->ndims == 3 && dims_in_range(v, 1)) {
        if ((double)v->dims[0] * v->dims[1] * v->dims[2] <= INT_MAX) {
            c->m->input = shape_image(v->dims[0], v->dims[1], v->dims[2]);
            return true;
        }
        error_at(v->loc, "input %s is too large (at most %d elements)", val_text(v), INT_MAX);
        return false;
    }
    if (is_pos_int(v)) {
        c->m->input = shape_vector((int)v->num);
        return true;
    }
    if (v->kind == VAL_SHAPE && v->ndims == 2 && dims_in_range(v, 1))
        error_at(v->loc, "'input' takes HxWxC or N, not '%s'; did you mean '%sx1'?", val_text(v), val_text(v));
    else if (size_too_large(v))
        error_at(v->loc, "input %s is too large (each size at most %d)", val_text(v), MAX_SIZE);
    else
        error_at(v->loc, "'input' takes HxWxC or N with positive sizes, not '%s'", val_text(v));
    return false;
}

static void check_input(Checker *c, const Stmt *s) {
    static const AttrSpec specs[] = {{"order", AK_ORDER, 0}, {NULL, 0, 0}};
    const Attr *by_spec[MAX_ATTRS];
    no_label(s);
    collect_attrs(s, specs, "input", by_spec);
    before_layers(c, s);
    if (!once(s, &c->input_stmt))
        return;
    if (s->nargs < 1) {
        error_at(s->head_loc, "'input' needs a shape: HxWxC or N");
        return;
    }
    Layer order = {0};
    Draft d = {.l = &order};
    if (by_spec[0])
        apply_attr(&d, &specs[0], by_spec[0]);
    no_bare_values(s, 1);
    if (!read_input_shape(c, &s->args[0]))
        return;
    c->m->input_chw = order.flatten_chw;
    if (order.flatten_chw && c->m->input.rank == 1)
        error_at(by_spec[0]->val.loc, "order=chw needs an image input; '%s' is a vector", val_text(&s->args[0]));
    c->cur = c->m->input;
    c->shape_known = !c->first_layer && !s->after_syntax_error;
}

/* Without load_weights (--summary) the bundle is still read when it can be,
 * for the sizes of conv2d biases (weights.c); a missing one is no error. */
static void load_bundle(Checker *c, const Value *v) {
    c->w.has_bundle = true;
    c->w.bundle_loc = v->loc;
    c->w.bundle_path = v->str;
    Bundle *b = arena_alloc(sizeof *b);
    char err[512];
    if (bundle_load(path_join(c->w.base_dir, v->str), b, err, sizeof err))
        c->w.bundle = b;
    else if (c->w.load)
        error_at(v->loc, "weights bundle \"%s\": %s", v->str, err);
}

static void check_weights(Checker *c, const Stmt *s) {
    static const AttrSpec specs[] = {{"layout", AK_LAYOUT, 0}, {NULL, 0, 0}};
    const Attr *by_spec[MAX_ATTRS];
    no_label(s);
    collect_attrs(s, specs, "weights", by_spec);
    before_layers(c, s);
    if (!once(s, &c->weights_stmt))
        return;
    Layer unused = {0};
    Draft d = {.l = &unused};
    if (by_spec[0])
        apply_attr(&d, &specs[0], by_spec[0]);
    c->w.bundle_torch = d.ts.torch_layout;
    no_bare_values(s, 1);
    const Value *v = s->nargs ? &s->args[0] : NULL;
    if (!v || v->kind != VAL_STRING)
        error_at(v ? v->loc : s->head_loc, "'weights' needs a file name in quotes (.safetensors or .npz)");
    else if (!ends_with(v->str, ".safetensors") && !ends_with(v->str, ".npz"))
        error_at(v->loc, "weights bundle \"%s\" must be a .safetensors or .npz file", v->str);
    else
        load_bundle(c, v);
}

static void unknown_head(Checker *c, const Stmt *s) {
    c->seen_unknown_head = true;
    const char *heads[LAYER_KIND_COUNT + 3] = {"model", "input", "weights"};
    for (int i = 0; i < LAYER_KIND_COUNT; i++)
        heads[3 + i] = layer_kind_name((LayerKind)i);
    const char *close = closest_word(s->head, heads, LAYER_KIND_COUNT + 3);
    if (close)
        error_at(s->head_loc, "unknown layer '%s'; did you mean '%s'?", s->head, close);
    else
        error_at(s->head_loc, "unknown layer '%s'", s->head);
}

static void check_stmt(Checker *c, const Stmt *s) {
    LayerKind kind;
    if (!strcmp(s->head, "model"))
        check_model(c, s);
    else if (!strcmp(s->head, "input"))
        check_input(c, s);
    else if (!strcmp(s->head, "weights"))
        check_weights(c, s);
    else if (op_by_keyword(s->head, &kind))
        check_layer(c, s, kind);
    else
        unknown_head(c, s);
}

/* The file stem as an identifier: each non-identifier character (a UTF-8
 * sequence counts as one) becomes '_', and a leading digit gets a '_'
 * before it. */
static const char *default_model_name(const char *path) {
    const char *stem = path_stem(path);
    char *name = arena_alloc(strlen(stem) + 2), *out = name;
    if (!stem[0] || isdigit((unsigned char)stem[0]))
        *out++ = '_';
    for (const char *p = stem; *p; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;   /* the rest of a UTF-8 character */
        *out++ = isalnum((unsigned char)*p) || *p == '_' ? *p : '_';
    }
    return name;
}

static void finish(Checker *c) {
    Loc top = {c->prog->file, 1, 1, 1};
    if (!c->prog->syntax_errors && !c->input_stmt)
        error_at(top, "the model has no 'input' statement (input HxWxC or input N)");
    else if (!c->prog->syntax_errors && !c->first_layer && !c->seen_unknown_head)
        error_at(c->input_stmt->head_loc, "the model has no layers after 'input'");
    c->m->layers = c->layers.items;
    c->m->nlayers = c->layers.len;
    c->m->output = c->layers.len ? c->layers.items[c->layers.len - 1].out : c->m->input;
}

Model *check_program(const Program *prog, bool load_weights) {
    Checker c = {.prog = prog, .hwc_flatten = -1};
    c.m = arena_alloc(sizeof *c.m);
    c.m->file = prog->file;
    c.m->name = default_model_name(prog->file->path);
    c.m->weights_loaded = load_weights;
    c.w.load = load_weights;
    c.w.base_dir = path_dirname(prog->file->path);
    for (const Stmt *s = prog->stmts; s; s = s->next)
        check_stmt(&c, s);
    finish(&c);
    return c.m;
}

void dump_shapes(const Model *m, FILE *out) {
    fprintf(out, "%-20s %-14s %s\n", "input", m->input_chw ? "order=chw" : "", shape_str(m->input));
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        fprintf(out, "%-20s %-14s %s -> %s\n", l->name, layer_kind_name(l->kind), shape_str(l->in),
                shape_str(l->out));
    }
}

static double tensor_at(const Tensor *t, int i, double fallback) {
    if (!t->count)
        return fallback;
    return t->count == 1 ? t->data[0] : t->data[i];
}

void layer_affine(const Layer *l, int channel, double *scale, double *shift) {
    const Tensor *t = l->t;
    *scale = 1;
    *shift = 0;
    if (l->kind == LAYER_RESCALE) {
        *scale = tensor_at(&t[T_SCALE], channel, 1);
        *shift = tensor_at(&t[T_OFFSET], channel, 0);
    } else if (l->kind == LAYER_NORMALIZE) {
        double std = tensor_at(&t[T_STD], channel, 1);
        *scale = 1 / std;
        *shift = -tensor_at(&t[T_MEAN], channel, 0) / std;
    } else if (l->kind == LAYER_BATCHNORM) {
        double var = tensor_at(&t[T_VAR], channel, 1);
        *scale = tensor_at(&t[T_GAMMA], channel, 1) / sqrt(var + l->epsilon);
        *shift = tensor_at(&t[T_BETA], channel, 0) - tensor_at(&t[T_MEAN], channel, 0) * *scale;
    }
}

/* ------------------------------------------------------- compiled weights */

static bool array_finite(const IrArray *a) {
    for (long long i = 0; a->data && i < a->count; i++)
        if (!isfinite(a->data[i]))
            return false;
    return true;
}

/* The affine layers folded into OP, quoted: "'bn'", "'bn', 'n'"; "" if none. */
static const char *folded_names(const IrOp *op) {
    const char *names = "";
    for (int i = 0; i < op->nfused; i++) {
        LayerKind k = op->fused[i]->kind;
        if (k == LAYER_RESCALE || k == LAYER_NORMALIZE || k == LAYER_BATCHNORM)
            names = arena_printf("%s%s'%s'", names, names[0] ? ", " : "", op->fused[i]->name);
    }
    return names;
}

void check_compiled_weights(const Ir *ir) {
    for (int i = 0; i < ir->nops; i++) {
        const IrOp *op = &ir->ops[i];
        bool finite = true;
        for (int k = 0; k < op->narrays && finite; k++)
            finite = array_finite(&op->arrays[k]);
        if (finite || !op->layer)
            continue;
        const char *folded = folded_names(op);
        if (folded[0])
            error_at(op->layer->loc, "layer '%s': folding %s into its weights gives values beyond the float32 range",
                     op->layer->name, folded);
        else
            error_at(op->layer->loc, "layer '%s': its compiled weights are beyond the float32 range", op->layer->name);
    }
}
