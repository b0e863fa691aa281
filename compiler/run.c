/* run.c — `cnnc run MODEL.cnn --input IN [--output OUT.npy]`.
 *
 * Reads the input into the caller's buffer order (a .npy of the caller's
 * shape, or an image converted from H-W-C to the model's order), runs the
 * reference interpreter, prints the output, and writes it as a .npy when
 * asked.  Shapes in messages are written numpy-style, `(28, 28, 1)`, because
 * they describe .npy files.  Printing (docs/decisions/run.md): every value
 * when there are at most PRINT_ALL_MAX of them, else a summary; a vector
 * output also gets its top classes. */
#include "cnnc.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define PRINT_ALL_MAX 1024
#define PER_LINE 8
#define TOP_K 5

/* The dims of the caller's buffer: (H, W, C), (C, H, W) or (N,). */
typedef struct BufferDims {
    int ndims;
    long long d[3];
} BufferDims;

static BufferDims buffer_dims(Shape s, bool chw) {
    if (s.rank == 1)
        return (BufferDims){1, {s.c}};
    if (chw)
        return (BufferDims){3, {s.c, s.h, s.w}};
    return (BufferDims){3, {s.h, s.w, s.c}};
}

static const char *dims_str(const long long *d, int n) {
    if (n == 1)
        return arena_printf("(%lld,)", d[0]);
    const char *s = "(";
    for (int i = 0; i < n; i++)
        s = arena_printf("%s%lld%s", s, d[i], i + 1 < n ? ", " : ")");
    return n ? s : "()";
}

/* The same dims, or the same with a leading batch dimension of 1. */
static bool dims_match(const RawTensor *raw, BufferDims want) {
    int skip = raw->ndims == want.ndims + 1 && raw->dims[0] == 1;
    if (raw->ndims - skip != want.ndims)
        return false;
    for (int i = 0; i < want.ndims; i++)
        if (raw->dims[i + skip] != want.d[i])
            return false;
    return true;
}

/* ------------------------------------------------------------------ input */

static float *read_npy_input(const Model *m, const char *path) {
    size_t len;
    const unsigned char *buf = (const unsigned char *)read_whole_file(path, &len);
    if (!buf) {
        error_plain("cannot read input '%s': %s", path, strerror(errno));
        return NULL;
    }
    char err[300];
    RawTensor raw;
    Tensor t;
    if (!npy_parse(buf, len, &raw, err, sizeof err)) {
        error_plain("input '%s': %s", path, err);
        return NULL;
    }
    if (raw.dtype == DT_INT || raw.dtype == DT_BOOL) {
        error_plain("input '%s' has dtype %s; the input must be float (float16, bfloat16, float32 or float64)", path,
                    raw.dtype_name);
        return NULL;
    }
    if (!raw_to_tensor(&raw, &t, err, sizeof err)) {
        error_plain("input '%s': %s", path, err);
        return NULL;
    }
    BufferDims want = buffer_dims(m->input, m->input_chw);
    if (!dims_match(&raw, want)) {
        error_plain("input '%s' has shape %s, expected %s (input %s%s)", path, dims_str(raw.dims, raw.ndims),
                    dims_str(want.d, want.ndims), shape_str(m->input), m->input_chw ? " order=chw" : "");
        return NULL;
    }
    return t.data;
}

/* H-W-C pixels to the caller's order (C-H-W when order=chw). */
static float *to_model_order(const Model *m, float *px) {
    Shape s = m->input;
    if (!m->input_chw)
        return px;
    float *out = arena_alloc((size_t)shape_count(s) * sizeof(float));
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++)
                out[((long long)c * s.h + y) * s.w + x] = px[((long long)y * s.w + x) * s.c + c];
    return out;
}

static float *read_image_input(const Model *m, const char *path) {
    int h, w, c;
    float *px;
    char err[400];
    if (!image_load(path, &h, &w, &c, &px, err, sizeof err)) {
        error_plain("%s", err);
        return NULL;
    }
    Shape s = m->input;
    if (s.rank != 3 || s.h != h || s.w != w || s.c != c) {
        error_plain("image '%s' is %s (%s), but the model's input is %s", path, shape_str(shape_image(h, w, c)),
                    c == 1 ? "grayscale" : "RGB", shape_str(s));
        return NULL;
    }
    return to_model_order(m, px);
}

static bool is_image_path(const char *path) {
    static const char *const exts[] = {".pgm", ".ppm", ".png", ".PGM", ".PPM", ".PNG"};
    for (int i = 0; i < 6; i++)
        if (ends_with(path, exts[i]))
            return true;
    return false;
}

static float *read_input(const Model *m, const char *path) {
    if (ends_with(path, ".npy") || ends_with(path, ".NPY"))
        return read_npy_input(m, path);
    if (is_image_path(path))
        return read_image_input(m, path);
    error_plain("input '%s': unknown kind of file (expected .npy, .pgm, .ppm or .png)", path);
    return NULL;
}

/* ----------------------------------------------------------------- output */

static void print_values(const float *v, long long n, FILE *out) {
    for (long long i = 0; i < n; i++)
        fprintf(out, "%12.6g%s", v[i], (i + 1) % PER_LINE == 0 || i + 1 == n ? "\n" : " ");
}

static void print_summary_line(const float *v, long long n, FILE *out) {
    double min = INFINITY, max = -INFINITY, sum = 0;
    for (long long i = 0; i < n; i++) {
        min = fmin(min, v[i]);
        max = fmax(max, v[i]);
        sum += v[i];
    }
    fprintf(out, "first %d values:\n", PER_LINE);
    print_values(v, PER_LINE, out);
    fprintf(out, "min %.6g  max %.6g  mean %.6g\n", min, max, sum / (double)n);
}

/* Indices of the k largest values, largest first, lower index first on ties
 * (numpy's argmax rule): an insertion into a short sorted list. */
static int top_classes(const float *v, int n, int top[TOP_K]) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (count == TOP_K && !(v[i] > v[top[count - 1]]))
            continue;
        int pos = count < TOP_K ? count++ : count - 1;
        for (; pos > 0 && v[i] > v[top[pos - 1]]; pos--)
            top[pos] = top[pos - 1];
        top[pos] = i;
    }
    return count;
}

static void print_top_classes(const float *v, int n, FILE *out) {
    int top[TOP_K];
    int k = top_classes(v, n, top);
    fprintf(out, "top %d:\n", k);
    for (int r = 0; r < k; r++)
        fprintf(out, "  %d. class %d: %.6g\n", r + 1, top[r], v[top[r]]);
}

static void print_output(const Model *m, const float *v, FILE *out) {
    long long n = shape_count(m->output);
    const char *order = m->output.rank == 1 ? "" : m->input_chw ? ", C-H-W order" : ", H-W-C order";
    BufferDims d = buffer_dims(m->output, m->input_chw);
    fprintf(out, "output %s %s%s\n", shape_str(m->output), dims_str(d.d, d.ndims), order);
    if (n <= PRINT_ALL_MAX)
        print_values(v, n, out);
    else
        print_summary_line(v, n, out);
    if (m->output.rank == 1)
        print_top_classes(v, (int)n, out);
}

/* ------------------------------------------------------------- .npy output */

static void put_le32(unsigned char *p, uint32_t u) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Version 1.0 header: magic, version, 2-byte length, the dict padded with
 * blanks and a newline so the data starts on a 64-byte boundary. */
static bool write_npy_header(FILE *f, BufferDims d) {
    char dict[200];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                       dims_str(d.d, d.ndims));
    int total = (10 + len + 1 + 63) / 64 * 64;
    int hlen = total - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, sizeof pre, f);
    fprintf(f, "%s%*s\n", dict, hlen - len - 1, "");
    return !ferror(f);
}

static bool write_npy_data(FILE *f, const float *v, long long n) {
    unsigned char le[4];
    for (long long i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_le32(le, u);
        fwrite(le, 1, 4, f);
    }
    return !ferror(f);
}

static bool write_output_npy(const Model *m, const float *v, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        error_plain("cannot write '%s': %s", path, strerror(errno));
        return false;
    }
    bool ok = write_npy_header(f, buffer_dims(m->output, m->input_chw));
    ok = ok && write_npy_data(f, v, shape_count(m->output));
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        error_plain("cannot write '%s': %s", path, strerror(errno));
        remove(path);
    }
    return ok;
}

int run_model(const Model *m, const char *input_path, const char *output_path) {
    float *input = read_input(m, input_path);
    if (!input)
        return 1;
    float *output = arena_alloc((size_t)shape_count(m->output) * sizeof(float));
    interp_run(m, input, output);
    print_output(m, output, stdout);
    if (output_path && !write_output_npy(m, output, output_path))
        return 1;
    return 0;
}
