/* cnnc.h — the one internal header of the compiler.
 *
 * The pipeline is   parse → check → lower → plan → emit   (see main.c).
 * Each section below is defined by the file named in its heading; read the
 * sections top to bottom and you have read the architecture.
 *
 * Memory: everything the compiler builds lives in one arena (util.c) that is
 * freed once at exit.  Errors in the user's input go through diag.c; broken
 * internal invariants go through die()/unreachable().
 */
#ifndef CNNC_H
#define CNNC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CNNC_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define FMT(a, b) __attribute__((format(printf, a, b)))
#else
#define FMT(a, b)
#endif

/* ------------------------------------------------------------------ util.c */

void *arena_alloc(size_t size);            /* zeroed; dies when out of memory */
char *arena_strdup(const char *s);
char *arena_strndup(const char *s, size_t n);
char *arena_printf(const char *fmt, ...) FMT(1, 2);
void arena_free_all(void);                 /* frees every arena allocation */

/* A growable array whose storage lives in the arena (old storage is simply
 * abandoned on growth).  Declare with `VEC(T) name;`, zero-initialized. */
#define VEC(T) struct { T *items; int len, cap; }
#define vec_push(v, x)                                                      \
    do {                                                                    \
        if ((v)->len == (v)->cap)                                           \
            vec_grow_((void **)&(v)->items, &(v)->cap, sizeof *(v)->items); \
        (v)->items[(v)->len++] = (x);                                       \
    } while (0)
void vec_grow_(void **items, int *cap, size_t elem_size);

_Noreturn void die_at(const char *file, int line, const char *fmt, ...) FMT(3, 4);
#define die(...) die_at(__FILE__, __LINE__, __VA_ARGS__)
#define unreachable() die("unreachable")

/* Whole file into the arena, NUL-terminated; NULL (errno set) on failure. */
char *read_whole_file(const char *path, size_t *len);
char *path_dirname(const char *path);               /* "a/b.cnn" → "a", "b" → "." */
char *path_join(const char *dir, const char *rel);  /* rel if absolute */
char *path_stem(const char *path);                  /* "dir/mnist.cnn" → "mnist" */
bool ends_with(const char *s, const char *suffix);
/* Renames tmps[i] to paths[i] for i < n, all or nothing: when one rename
 * fails, the outputs already renamed are undone (errno is kept) and its index
 * is returned; -1 when all were renamed.  Undone means the file that was
 * there before is back: each existing output is first hard-linked to
 * "TMP.old" (removed at the end); where it cannot be (a file system without
 * hard links), the new output is removed instead. */
int rename_all(const char *const *tmps, const char *const *paths, int n);
/* Whether two paths name one existing file (same device and inode). */
bool same_file(const char *a, const char *b);
/* The candidate closest to `word` by edit distance, or NULL if none is close. */
const char *closest_word(const char *word, const char *const *candidates, int n);

/* ------------------------------------------------------------------ diag.c */

typedef struct SrcFile {
    const char *path;   /* as given on the command line */
    const char *text;   /* NUL-terminated */
    size_t len;
} SrcFile;

/* A place in a source file; columns are 1-based and count characters
 * (UTF-8 code points), len is the number of characters to underline. */
typedef struct Loc {
    const SrcFile *file;
    int line, col, len;
} Loc;

/* `FILE:LINE:COL: error: MESSAGE`, the source line, a caret under the column
 * (`^~~~` over len characters).  Errors are counted; only main.c decides the
 * exit status. */
void error_at(Loc loc, const char *fmt, ...) FMT(2, 3);
void warning_at(Loc loc, const char *fmt, ...) FMT(2, 3);
void note_at(Loc loc, const char *fmt, ...) FMT(2, 3);
void error_plain(const char *fmt, ...) FMT(1, 2);   /* `cnnc: error: …` */
int diag_error_count(void);
void diag_reset(void);                 /* zero the counters (tests) */
void diag_set_stream(FILE *out);       /* default stderr (tests capture) */

/* ------------------------------------------------- ast.c, grammar/parser.y */

typedef enum { VAL_NUMBER, VAL_SHAPE, VAL_STRING, VAL_IDENT, VAL_LIST } ValKind;

typedef struct Value {
    ValKind kind;
    Loc loc;
    const char *text;    /* the source spelling (for dumps and messages) */
    double num;          /* VAL_NUMBER: value (a ratio is already divided) */
    bool is_int;         /* VAL_NUMBER: written as an integer (no . e /) */
    int dims[8];         /* VAL_SHAPE: 28x28x1 → {28,28,1}, ndims 3 */
    int ndims;
    const char *str;     /* VAL_STRING (unescaped) and VAL_IDENT */
    double *items;       /* VAL_LIST, flattened in reading order */
    int nitems;
} Value;

typedef struct Attr {
    const char *name;
    Loc loc;             /* of the name */
    Value val;
    struct Attr *next;
} Attr;

/* One statement: `[label:] head arg* (name=value)*`.  The grammar does not
 * know keywords: `model`, `input`, `weights` and the layer ops are all heads,
 * and check.c gives them meaning. */
typedef struct Stmt {
    Loc loc;                 /* start of the statement */
    const char *label;       /* `conv1:`, or NULL */
    Loc label_loc;
    const char *head;        /* "model", "input", "weights", "conv2d", ... */
    Loc head_loc;
    Value *args;             /* bare values after the head, in order */
    int nargs;
    Attr *attrs;             /* name=value pairs, in order */
    bool after_syntax_error; /* a syntax error came earlier in the file */
    struct Stmt *next;
} Stmt;

typedef struct Program {
    const SrcFile *file;
    Stmt *stmts;
    int syntax_errors;
} Program;

/* The scanner/parser state and the ast_* builders the grammar actions call
 * are private to the front end: grammar/parser.y declares them (parser.h). */
SrcFile *srcfile_load(const char *path);   /* NULL (errno set) on failure */
SrcFile *srcfile_from_string(const char *path, const char *text);
Program *parse_program(const SrcFile *file);   /* syntax errors → diag */
void dump_tokens(const SrcFile *file, FILE *out);
void dump_ast(const Program *prog, FILE *out);

/* -------------------------------------------------------------- shape.c */

/* An activation shape.  rank 3: an image of h rows, w columns, c channels,
 * stored h-w-c (channels fastest) inside generated code.  rank 1: a vector of
 * c elements (h = w = 1). */
typedef struct Shape {
    int rank;
    int h, w, c;
} Shape;

Shape shape_image(int h, int w, int c);
Shape shape_vector(int n);
long long shape_count(Shape s);
/* "28x28x1" or "10": the one printer every message uses.  Returns an arena string. */
const char *shape_str(Shape s);

/* ------------------------------------------------------------- weights */

/* A float32 tensor.  Inside a checked model tensors are in cnnc's canonical
 * layout (the Keras one): conv [KH][KW][Cin][F], dense [in][out], per-position
 * bias [OH][OW][F], everything else [C]. */
typedef struct Tensor {
    float *data;
    long long count;
    int ndims;
    long long dims[8];
} Tensor;

/* npy.c — one .npy file. Readers never trust sizes in a header: every length
 * is checked against the bytes actually present. */
typedef enum { DT_F16, DT_BF16, DT_F32, DT_F64, DT_INT, DT_BOOL, DT_OTHER } DType;

/* A tensor found in a file, not yet converted: what was declared, and where
 * its raw bytes are. */
typedef struct RawTensor {
    const char *name;        /* bundle key ("conv1.weight"); NULL for .npy */
    DType dtype;
    const char *dtype_name;  /* as the file spells it: "<f4", "F16", "int64" */
    bool big_endian;
    bool fortran_order;
    int ndims;
    long long dims[8];
    const unsigned char *bytes;   /* raw element data */
    size_t nbytes;
} RawTensor;

/* Loader errors are returned as text (err, errlen) because the location to
 * report belongs to the caller (the statement or attribute naming the file). */
bool npy_parse(const unsigned char *buf, size_t len, RawTensor *out, char *err, size_t errlen);
bool npy_load(const char *path, RawTensor *out, char *err, size_t errlen);
/* Converts any float dtype to float32 in C order; integer/bool types are an error. */
bool raw_to_tensor(const RawTensor *raw, Tensor *out, char *err, size_t errlen);

/* npz.c, safetensors.c — a bundle of named tensors. */
typedef struct Bundle {
    const char *path;
    RawTensor *tensors;
    int count;
} Bundle;

bool npz_parse(const unsigned char *buf, size_t len, Bundle *out, char *err, size_t errlen);
bool safetensors_parse(const unsigned char *buf, size_t len, Bundle *out, char *err, size_t errlen);
/* Reads PATH and dispatches on its extension (.npz or .safetensors). */
bool bundle_load(const char *path, Bundle *out, char *err, size_t errlen);
const RawTensor *bundle_find(const Bundle *b, const char *name);

/* ------------------------------------------------------ check.c, ops.c */

/* Every layer kind, written once (X-macro): enum name, keyword. */
#define LAYER_KINDS(X)                                        \
    X(CONV2D, "conv2d")                                       \
    X(MAXPOOL, "maxpool")                                     \
    X(AVGPOOL, "avgpool")                                     \
    X(GLOBAL_AVGPOOL, "global_avgpool")                       \
    X(GLOBAL_MAXPOOL, "global_maxpool")                       \
    X(FLATTEN, "flatten")                                     \
    X(DENSE, "dense")                                         \
    X(RELU, "relu")                                           \
    X(RELU6, "relu6")                                         \
    X(LEAKY_RELU, "leaky_relu")                               \
    X(SIGMOID, "sigmoid")                                     \
    X(TANH, "tanh")                                           \
    X(SOFTMAX, "softmax")                                     \
    X(LINEAR, "linear")                                       \
    X(RESCALE, "rescale")                                     \
    X(NORMALIZE, "normalize")                                 \
    X(BATCHNORM, "batchnorm")                                 \
    X(DROPOUT, "dropout")

typedef enum {
#define X(kind, keyword) LAYER_##kind,
    LAYER_KINDS(X)
#undef X
    LAYER_KIND_COUNT
} LayerKind;

const char *layer_kind_name(LayerKind k);   /* "conv2d" */

typedef enum {
    ACT_LINEAR, ACT_RELU, ACT_RELU6, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX
} ActKind;

const char *act_name(ActKind a);   /* "relu" */

/* The tensors a layer can carry, by role. */
typedef enum {
    T_WEIGHT,   /* conv2d, dense */
    T_BIAS,     /* conv2d, dense: [F] or per-position [OH][OW][F] */
    T_GAMMA,    /* batchnorm */
    T_BETA,     /* batchnorm */
    T_MEAN,     /* batchnorm running mean, normalize mean */
    T_VAR,      /* batchnorm running variance */
    T_STD,      /* normalize */
    T_SCALE,    /* rescale: one value, or one per channel/element */
    T_OFFSET,   /* rescale */
    T_COUNT
} TensorRole;

/* A checked layer: every attribute resolved to a number, every default
 * applied, shapes inferred, tensors loaded and in canonical layout. */
typedef struct Layer {
    LayerKind kind;
    const char *name;     /* "conv1", "features.0", "conv2d_2" */
    const char *cname;    /* name with dots turned into '_' */
    Loc loc;              /* the statement */
    int line;             /* source line, for comments in generated code */
    Shape in, out;

    int filters;          /* conv2d */
    int units;            /* dense */
    int kh, kw;           /* conv2d kernel; pool window */
    int sh, sw;           /* stride */
    int dh, dw;           /* dilation (1 for pools) */
    int pad_top, pad_bottom, pad_left, pad_right;
    bool count_pad;       /* avgpool */
    bool flatten_chw;     /* flatten order=chw */
    bool has_bias;        /* conv2d, dense */
    bool per_position_bias; /* conv2d bias of OH*OW*F values */
    bool bias_assumed;    /* --summary: bias file unread, counted as [F] */
    ActKind act;          /* conv2d/dense fused activation; for an activation
                             layer, the activation itself */
    float alpha;          /* leaky_relu slope */
    float epsilon;        /* batchnorm */

    Tensor t[T_COUNT];    /* count 0 = absent */
    long long params;     /* as Keras counts them */
    long long macs;       /* multiply-accumulates, padding taps included */
} Layer;

typedef struct Model {
    const char *name;     /* C prefix: `model NAME`, else the file stem */
    const SrcFile *file;
    Shape input;
    bool input_chw;       /* caller's input (and a 3-D output) buffer is C-H-W */
    Layer *layers;
    int nlayers;
    Shape output;
    bool weights_loaded;  /* false under --summary, which needs no weights */
} Model;

/* Names, attributes, defaults, shapes; loads weights when load_weights.
 * Reports every problem through diag; the result is only usable when
 * diag_error_count() is 0. */
Model *check_program(const Program *prog, bool load_weights);
void dump_shapes(const Model *m, FILE *out);

/* Per-channel (or per-element) affine form y = x*scale + shift of a rescale,
 * normalize or batchnorm layer, computed in double. */
void layer_affine(const Layer *l, int channel, double *scale, double *shift);

/* ops.c: the operator table.  A row per layer kind: its keyword, the
 * attributes it takes (and of what kind), and its shape rule. */
typedef enum {
    AK_POS_INT,     /* filters=32 */
    AK_PAIR,        /* K or KHxKW: kernel, size, stride, dilation */
    AK_PADDING,     /* valid | same | P | PHxPW | [t,b,l,r] */
    AK_BOOL,        /* count_pad */
    AK_BIAS,        /* true | false | tensor */
    AK_ACT,         /* activation name */
    AK_NUMBER,      /* alpha, epsilon, rate */
    AK_TENSOR,      /* list or .npy string */
    AK_NUM_TENSOR,  /* number, list or .npy string: scale, offset, normalize mean/std */
    AK_LAYOUT,      /* keras | torch */
    AK_ORDER        /* hwc | chw */
} AttrKind;

typedef struct AttrSpec {
    const char *name;
    AttrKind kind;
    TensorRole role;    /* AK_TENSOR, AK_NUM_TENSOR, AK_BIAS */
} AttrSpec;

typedef struct OpInfo {
    const char *keyword;
    const AttrSpec *attrs;   /* ends with a NULL name */
    /* Sets out, params and macs from in and the attributes; reports shape
     * errors.  Returns false when the output shape is unknown. */
    bool (*infer)(Layer *l, bool pad_same);
} OpInfo;

const OpInfo *op_info(LayerKind k);
bool op_by_keyword(const char *keyword, LayerKind *k);
const AttrSpec *op_attr(LayerKind k, const char *name);   /* NULL if not taken */
const char *op_owning_attr(const char *name);   /* a keyword taking it, or NULL */
bool act_by_name(const char *name, ActKind *a);
extern const char *const act_names[];           /* by ActKind, 7 entries */

/* weights.c: where a layer's tensors come from, as check.c found them. */
typedef struct TensorSources {
    const Value *given[T_COUNT];   /* list, .npy string or number; NULL: bundle/default */
    bool torch_layout;             /* the layer's own layout= */
} TensorSources;

typedef struct WeightsCtx {
    bool load;              /* open files (false under --summary) */
    const char *base_dir;   /* directory of the .cnn file */
    bool has_bundle;        /* a `weights` statement was seen */
    const Bundle *bundle;   /* loaded bundle, NULL if not loaded */
    bool bundle_torch;
    Loc bundle_loc;         /* the path in the `weights` statement */
    const char *bundle_path; /* as written in the statement */
} WeightsCtx;

/* Fills l->t[] in canonical layout (in and out must be known).  flatten is
 * the `flatten order=hwc` of H·W>1 feeding a dense layer, or NULL. */
void resolve_layer_tensors(Layer *l, const TensorSources *src, const WeightsCtx *w,
                           const Layer *hwc_flatten);

/* summary.c: the Keras-like table; workspace_bytes from the memory plan
 * (negative if unknown). */
void print_summary(const Model *m, long long workspace_bytes, FILE *out);

/* ------------------------------------------------------------- interp.c */

/* The reference interpreter: plain loops in double precision over the
 * checked model, independent of lower/plan/emit.  Input and output are in the
 * caller's buffer order (model->input_chw). */
void interp_run(const Model *m, const float *input, float *output);

/* image.c: .pgm/.ppm/.png → floats 0..255 in H-W-C order. */
bool image_load(const char *path, int *h, int *w, int *c, float **pixels, char *err, size_t errlen);

/* run.c: `cnnc run`: read the input (.npy or image), interpret, print the
 * output (and the top classes of a vector), optionally write OUT.npy.
 * Returns the exit status (0, or 1 with a diagnostic printed). */
int run_model(const Model *m, const char *input_path, const char *output_path);

/* ------------------------------------------------ lower.c, plan.c, emit_c.c */

/* Targets are data: the emitter asks the record, it never #ifdefs. */
typedef enum { TARGET_AUTO, TARGET_SCALAR, TARGET_SSE4, TARGET_AVX2, TARGET_AVX512, TARGET_NEON } TargetKind;

typedef struct Target {
    TargetKind kind;
    const char *name;     /* "avx2" */
    int lanes;            /* floats per vector; 0 for auto (decided by the C compiler) */
    bool fma;
    const char *header;   /* runtime header the code includes */
} Target;

const Target *target_by_name(const char *name);   /* NULL if unknown */

/* --unroll: how far kernels unroll their loops.  AUTO unrolls where it pays
 * and stays within the code-size budget; FULL unrolls every reduction with
 * constant offsets; NONE keeps readable rolled loops.  Under AUTO, emit_c.c
 * re-runs emit_body with NONE on a body over the code-size budget, keeping
 * the kernel, arrays and scratch chosen under AUTO: emit_body must cope. */
typedef enum { UNROLL_AUTO, UNROLL_FULL, UNROLL_NONE } UnrollMode;

typedef struct EmitOptions {
    const Target *target;
    UnrollMode unroll;
    bool standalone;
    bool decimal_weights;     /* --decimal-weights: no packed arrays (emit_c.c) */
    const char *header_name;  /* "model.h", as #included by the .c */
    const char *source_name;  /* the .cnn path, for the frontmatter */
    FILE *weights_out;        /* --weights-c: arrays go to this second file */
} EmitOptions;

/* runtime_text.c, generated from the runtime headers at build time: a runtime
 * header's text by file name ("cnnc_rt.h"), for --standalone; NULL if none. */
const char *runtime_header_text(const char *name);

/* The IR: a flat list of ops, each reading one buffer and writing another.
 * Every shape is a constant; every op remembers the layer it came from (and
 * the layers fused into it) so the generated function can say where it is
 * from.  Op kinds, written once: enum name, short name used in dumps and in
 * generated function names. */
#define IR_OP_KINDS(X)            \
    X(CONV, "conv")               \
    X(DENSE, "dense")             \
    X(MAXPOOL, "maxpool")         \
    X(AVGPOOL, "avgpool")         \
    X(GLOBAL_AVGPOOL, "gavgpool") \
    X(GLOBAL_MAXPOOL, "gmaxpool") \
    X(ACT, "act")                 \
    X(SOFTMAX, "softmax")         \
    X(AFFINE, "affine")           \
    X(PAD, "pad")                 \
    X(TRANSPOSE, "transpose")     \
    X(COPY, "copy")

typedef enum {
#define X(kind, name) IR_##kind,
    IR_OP_KINDS(X)
#undef X
    IR_KIND_COUNT
} IrOpKind;

const char *ir_kind_name(IrOpKind k);   /* "conv" */

/* A virtual buffer.  BUF_INPUT/BUF_OUTPUT are the caller's arrays; BUF_WORK
 * buffers get a 64-byte aligned offset in the workspace from plan.c. */
typedef enum { BUF_INPUT, BUF_OUTPUT, BUF_WORK } BufKind;

typedef struct IrBuf {
    BufKind kind;
    long long floats;    /* elements */
    int first, last;     /* index of the op that writes it / last reads it */
    long long offset;    /* BUF_WORK: byte offset in the workspace */
    int shares;          /* plan.c: id of the buffer it runs in place over, or -1 */
} IrBuf;

/* One constant array a kernel reads, already in the order it reads it.
 * data is NULL when the model was checked without weights (--summary). */
typedef struct IrArray {
    const char *tensor;  /* "weight", "bias", "scale", "shift" */
    const float *data;
    long long count;
} IrArray;

#define IR_MAX_FUSED 6
#define IR_MAX_ARRAYS 4

typedef struct IrOp IrOp;
typedef struct Emitter Emitter;

/* How one op becomes C.  The scalar family files (ops/conv.c, pool.c,
 * dense.c, act.c) define one per op kind; the SIMD files (ops/conv_simd.c,
 * ops/dense_simd.c) return their own from the hooks below.  Lowering calls
 * pack once, after the op's canonical tensors are final; the emitter prints
 * the arrays, the function signature, then calls emit_body. */
typedef struct KernelEmitter {
    const char *isa;     /* "scalar", "avx2", ...: suffix of the function name */
    /* Fills op->arrays (op->narrays) from op->weight/op->bias etc. in the
     * kernel's reading order; must cope with data == NULL (counts only). */
    void (*pack)(IrOp *op);
    /* The statements of `static void f(const float *in, float *out)`
     * (plus `float *scratch` when op->scratch_floats > 0). */
    void (*emit_body)(Emitter *e, const IrOp *op);
    bool in_place_ok;    /* correct when in == out (elementwise kernels) */
    /* Addresses its output rows with frame_pitch(op) from `out`, so it can
     * write into the interior of a zero-bordered frame (layout.c). */
    bool writes_frame;
} KernelEmitter;

/* A zero border around an op's H-W-C output (layout.c): the buffer holds
 * (top+H+bottom) rows of (left+W+right)*C floats, the tensor its interior.
 * All zero: the plain H-W-C layout. */
typedef struct Frame {
    int top, bottom, left, right;
} Frame;

struct IrOp {
    IrOpKind kind;
    const Layer *layer;      /* source layer; NULL for an input/output transpose */
    const Layer *fused[IR_MAX_FUSED];   /* layers folded into this op */
    int nfused;
    int in, out;             /* buffer ids */
    Shape in_shape, out_shape;

    /* CONV (on an already padded input when a PAD op precedes it), pools */
    int kh, kw, sh, sw, dh, dw;
    /* PAD, pools: the padding; CONV keeps 0 when a PAD op did it */
    int pad_top, pad_bottom, pad_left, pad_right;
    bool count_pad;          /* AVGPOOL */
    ActKind act;             /* CONV, DENSE, ACT: fused activation */
    float alpha;             /* leaky_relu */
    bool to_chw;             /* TRANSPOSE: HWC→CHW (else CHW→HWC) */

    /* Canonical float tensors after folding: CONV weight [KH][KW][Cin][F],
     * DENSE weight [in][out] (rows in HWC order), bias [F] or [OH][OW][F]
     * (per_position_bias); AFFINE weight = scale[C], bias = shift[C]. */
    Tensor weight, bias;
    bool per_position_bias;
    Frame out_frame;         /* the output's zero border (layout.c), else all 0 */

    UnrollMode unroll;       /* from EmitOptions; kernels read it */
    /* Scratch a kernel needs during the op (e.g. Winograd's transformed
     * tiles): pack sets scratch_floats; lower.c makes it buffer `scratch`
     * (-1 if none), plan.c places it, and the function gets a third
     * parameter `float *scratch` (64-byte aligned). */
    long long scratch_floats;
    int scratch;

    const KernelEmitter *kernel;   /* chosen by lower.c (choose_kernel) */
    IrArray arrays[IR_MAX_ARRAYS]; /* filled by kernel->pack */
    int narrays;
    const char *symbol_prefix;     /* "mnist_conv1": arrays are PREFIX_TENSOR */
    const char *func_name;         /* generated function, unique in the file */
};

typedef struct Ir {
    const Model *model;
    const Target *target;
    IrOp *ops;
    int nops;
    IrBuf *bufs;
    int nbufs;
    long long workspace_bytes;   /* plan.c; 0 when nothing is planned */
} Ir;

/* lower.c: checked model → IR of fused ops over virtual buffers.  Works on a
 * model without weights too (shapes only), for --summary. */
Ir *lower_model(const Model *m, const EmitOptions *opts);
void dump_ir(const Ir *ir, FILE *out);
/* layout.c: the planner's activation layouts.  After kernels are chosen, a
 * PAD op whose input a frame-writing kernel produces for it alone is
 * removed: the producer writes into the interior of the padded buffer and
 * zeroes its border.  frame_pitch is the floats between two output rows,
 * frame_origin the offset of the interior; emit_frame_border zeroes the
 * border from `frame` (nothing without a frame). */
void place_frames(Ir *ir);
bool has_frame(const IrOp *op);
int frame_pitch(const IrOp *op);
long long frame_origin(const IrOp *op);
void emit_frame_border(Emitter *e, const IrOp *op);
/* The same zeroing for any buffer: the PAD op's output zeroes only its border too. */
void emit_zero_border(Emitter *e, const char *buf, Shape interior, Frame f);
/* plan.c: assigns workspace offsets by liveness (first fit by offset). */
void plan_memory(Ir *ir);
long long ir_workspace_bytes(const Ir *ir);
/* check.c: after lowering, every constant the kernels hold must be a finite
 * float (folding can overflow finite weights); errors at the layer. */
void check_compiled_weights(const Ir *ir);
/* emit_c.c: writes OUT.c and OUT.h. */
void emit_c(const Ir *ir, const EmitOptions *opts, FILE *c_out, FILE *h_out);

/* emit_c.c: the one printer.  A line ending in '{' indents the lines after
 * it; a line starting with '}' outdents itself and what follows. */
struct Emitter {
    FILE *out;
    int indent;
    bool line_start;
};
void emit(Emitter *e, const char *fmt, ...) FMT(2, 3);
/* The C expression, of array type, for op->arrays[i]: "mnist_conv1_weight",
 * or "mnist_conv1_weight.f" for a large array (a union of words and floats). */
const char *ir_array_symbol(const IrOp *op, int i);

/* ops/conv.c, pool.c, dense.c, act.c: the scalar (reference) kernels. */
extern const KernelEmitter conv_scalar_kernel, pad_scalar_kernel;
extern const KernelEmitter maxpool_scalar_kernel, avgpool_scalar_kernel;
extern const KernelEmitter global_avgpool_scalar_kernel, global_maxpool_scalar_kernel;
extern const KernelEmitter dense_scalar_kernel;
extern const KernelEmitter act_scalar_kernel, softmax_scalar_kernel, affine_scalar_kernel;
extern const KernelEmitter transpose_scalar_kernel, copy_scalar_kernel;
/* act.c: `x = act(x);` for a fused activation (nothing for linear); x is an
 * lvalue of type float.  Also used by the SIMD kernels' scalar tails. */
void emit_act_statement(Emitter *e, ActKind act, float alpha, const char *x);

/* ops/conv_simd.c, ops/dense_simd.c (the SIMD engineer's): a fast kernel
 * for this op on this target, or NULL to fall back to the scalar one.
 * Called only for targets with lanes != 1. */
const KernelEmitter *conv_simd_kernel(const IrOp *op, const Target *t);
const KernelEmitter *dense_simd_kernel(const IrOp *op, const Target *t);
/* Conv + pool fusion: whether this conv's SIMD kernel on t can apply the
 * pool at store (lower.c then records the pool in the conv's fused[]), and
 * the pool so fused into a conv op, or NULL. */
bool conv_simd_fuses_pool(const IrOp *conv, const Layer *pool, const Target *t);
const Layer *conv_fused_pool(const IrOp *op);
/* ops/conv_winograd.c: Winograd F(m x m, r x r) for an r x r stride-1 conv
 * (the variant its cost model estimates cheapest) where that model says it
 * pays on this target, else NULL (then conv_simd_kernel); the _any form
 * skips the threshold, the _variant form takes the variant of m (tests). */
const KernelEmitter *conv_winograd_kernel(const IrOp *op, const Target *t);
const KernelEmitter *conv_winograd_kernel_any(const IrOp *op, const Target *t);
const KernelEmitter *conv_winograd_variant_kernel(const IrOp *op, const Target *t, int m);

#endif
