/* npy.c — NumPy .npy files, and conversion of raw tensors to float32.
 *
 * A .npy file is a magic string, a version, a little-endian header length
 * (2 bytes in version 1, 4 bytes in versions 2 and 3) and a header that is a
 * Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * followed by the raw element data.  The header is read by a small strict
 * recursive-descent parser that accepts exactly the three keys, in any order,
 * each once.  Nothing the file declares is trusted: the dims product is
 * overflow-checked and must match the bytes actually present.
 *
 * raw_to_tensor turns float16, bfloat16, float32 and float64 data of either
 * byte order into float32 in C order; Fortran-ordered data is transposed by
 * walking the Fortran index with an odometer. */
#include "cnnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

/* ---------------------------------------------------------------- dtypes */

/* The item size a descr's number gives: bytes, but characters of 4 bytes
 * for 'U' (UCS-4 strings); strings and void items may be long, numbers at
 * most 64 bytes.  A datetime ('M', 'm') may end in a unit ("<M8[ns]").
 * 0 if malformed. */
static int descr_itemsize(char kind, const char *digits) {
    char *end;
    errno = 0;
    long size = strtol(digits, &end, 10);
    bool unit = strchr("Mm", kind) && *end == '[' && end[strlen(end) - 1] == ']';
    long limit = strchr("SUV", kind) ? 1L << 20 : 64;
    if ((*end && !unit) || errno || size <= 0 || size > limit || digits[0] < '1' || digits[0] > '9')
        return 0;
    return (int)(kind == 'U' ? size * 4 : size);
}

/* Classifies a NumPy descr such as "<f4", "|b1", ">i8".  Sets *itemsize,
 * 0 where the data has no fixed size to check: pickled Python objects
 * ("|O"), refused where a layer uses them.
 * False if the descr is unknown. */
static bool descr_classify(const char *descr, RawTensor *out, int *itemsize) {
    if (!strcmp(descr, "|O") || !strcmp(descr, "|O8")) {
        out->dtype = DT_OTHER;
        *itemsize = 0;
        return true;
    }
    char order = descr[0];
    if (!strchr("<>|=", order) || !descr[1] || !descr[2])
        return false;
    char kind = descr[1];
    int size = descr_itemsize(kind, descr + 2);
    if (!size)
        return false;
    out->big_endian = order == '>';
    *itemsize = size;
    if (kind == 'f' && size == 2)
        out->dtype = DT_F16;
    else if (kind == 'f' && size == 4)
        out->dtype = DT_F32;
    else if (kind == 'f' && size == 8)
        out->dtype = DT_F64;
    else if ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8))
        out->dtype = DT_INT;
    else if (kind == 'b' && size == 1)
        out->dtype = DT_BOOL;
    else if (strchr("fcmMSUV", kind))
        out->dtype = DT_OTHER;
    else
        return false;
    return true;
}

static int dtype_itemsize(DType t) {
    switch (t) {
    case DT_F16: case DT_BF16: return 2;
    case DT_F32: return 4;
    case DT_F64: return 8;
    default: return 0;
    }
}

/* ------------------------------------------------------- header parser */

typedef struct HeaderParser {
    const char *p, *end;
    char *err;
    size_t errlen;
    bool failed;
    bool structured;   /* the descr was a field list */
} HeaderParser;

static bool hp_fail(HeaderParser *hp, const char *what) {
    if (!hp->failed)
        snprintf(hp->err, hp->errlen, "bad .npy header: %s", what);
    hp->failed = true;
    return false;
}

static void hp_skip_blanks(HeaderParser *hp) {
    while (hp->p < hp->end && (*hp->p == ' ' || *hp->p == '\t' || *hp->p == '\n' || *hp->p == '\r'))
        hp->p++;
}

static bool hp_accept(HeaderParser *hp, char c) {
    hp_skip_blanks(hp);
    if (hp->p < hp->end && *hp->p == c) {
        hp->p++;
        return true;
    }
    return false;
}

static bool hp_expect(HeaderParser *hp, char c, const char *what) {
    return hp_accept(hp, c) || hp_fail(hp, what);
}

/* A Python string literal in single or double quotes, without escapes
 * (NumPy never writes any in these three keys). */
static bool hp_string(HeaderParser *hp, char *buf, size_t size) {
    hp_skip_blanks(hp);
    if (hp->p >= hp->end || (*hp->p != '\'' && *hp->p != '"'))
        return hp_fail(hp, "expected a quoted string");
    char quote = *hp->p++;
    const char *start = hp->p;
    while (hp->p < hp->end && *hp->p != quote && *hp->p != '\\' && *hp->p != '\n')
        hp->p++;
    if (hp->p >= hp->end || *hp->p != quote)
        return hp_fail(hp, "unterminated or escaped string");
    size_t n = (size_t)(hp->p - start);
    hp->p++;
    if (n >= size)
        return hp_fail(hp, "string too long");
    memcpy(buf, start, n);
    buf[n] = '\0';
    return true;
}

static bool hp_word(HeaderParser *hp, const char *word) {
    size_t n = strlen(word);
    hp_skip_blanks(hp);
    if ((size_t)(hp->end - hp->p) >= n && !memcmp(hp->p, word, n)) {
        hp->p += n;
        return true;
    }
    return false;
}

static bool hp_bool(HeaderParser *hp, bool *out) {
    if (hp_word(hp, "True"))
        *out = true;
    else if (hp_word(hp, "False"))
        *out = false;
    else
        return hp_fail(hp, "fortran_order must be True or False");
    return true;
}

static bool hp_dim(HeaderParser *hp, long long *out) {
    hp_skip_blanks(hp);
    if (hp->p >= hp->end || *hp->p < '0' || *hp->p > '9')
        return hp_fail(hp, "shape entries must be non-negative integers");
    long long v = 0;
    while (hp->p < hp->end && *hp->p >= '0' && *hp->p <= '9') {
        if (v > (1LL << 50))
            return hp_fail(hp, "shape entry too large");
        v = v * 10 + (*hp->p++ - '0');
    }
    *out = v;
    return true;
}

/* A tuple: (), (N,), (A, B), (A, B,) */
static bool hp_shape(HeaderParser *hp, RawTensor *out) {
    if (!hp_expect(hp, '(', "shape must be a tuple"))
        return false;
    out->ndims = 0;
    while (!hp_accept(hp, ')')) {
        if (out->ndims == 8)
            return hp_fail(hp, "more than 8 dimensions");
        if (!hp_dim(hp, &out->dims[out->ndims++]))
            return false;
        if (hp_accept(hp, ')'))
            break;
        if (!hp_expect(hp, ',', "expected ',' or ')' in shape"))
            return false;
    }
    return true;
}

/* A structured dtype's field list, e.g. [('x', '<f4'), ('y', '<i4', (2,))]:
 * skipped with its nested brackets and quoted names (which may hold
 * brackets or escaped quotes).  Such a tensor is known, so an unused one
 * does not spoil an .npz bundle (SPEC 1.2), and refused where used. */
static bool hp_skip_fields(HeaderParser *hp) {
    int depth = 0;
    char quote = 0;
    for (; hp->p < hp->end; hp->p++) {
        char c = *hp->p;
        if (quote) {
            if (c == '\\' && hp->p + 1 < hp->end)
                hp->p++;
            else if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '[' || c == '(') {
            depth++;
        } else if ((c == ']' || c == ')') && --depth == 0) {
            hp->p++;
            return true;
        }
    }
    return hp_fail(hp, "unterminated structured dtype");
}

/* One `'key': value` pair; `seen` has one bit per key. */
static bool hp_entry(HeaderParser *hp, RawTensor *out, char *descr, size_t descr_size, int *seen) {
    char key[32];
    if (!hp_string(hp, key, sizeof key) || !hp_expect(hp, ':', "expected ':' after key"))
        return false;
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    int k = 0;
    while (k < 3 && strcmp(key, keys[k]))
        k++;
    if (k == 3)
        return hp_fail(hp, "unknown key (expected descr, fortran_order, shape)");
    if (*seen & (1 << k))
        return hp_fail(hp, "duplicate key");
    *seen |= 1 << k;
    if (k == 0) {
        hp_skip_blanks(hp);
        if (hp->p < hp->end && *hp->p == '[') {
            hp->structured = true;
            snprintf(descr, descr_size, "structured");
            return hp_skip_fields(hp);
        }
        return hp_string(hp, descr, descr_size);
    }
    return k == 1 ? hp_bool(hp, &out->fortran_order) : hp_shape(hp, out);
}

static bool parse_header_dict(HeaderParser *hp, RawTensor *out, char *descr, size_t descr_size) {
    int seen = 0;
    if (!hp_expect(hp, '{', "expected '{'"))
        return false;
    while (!hp_accept(hp, '}')) {
        if (!hp_entry(hp, out, descr, descr_size, &seen))
            return false;
        if (hp_accept(hp, '}'))
            break;
        if (!hp_expect(hp, ',', "expected ',' or '}'"))
            return false;
    }
    hp_skip_blanks(hp);
    if (hp->p != hp->end)
        return hp_fail(hp, "text after the closing '}'");
    if (seen != 7)
        return hp_fail(hp, "missing key (needs descr, fortran_order, shape)");
    return true;
}

/* --------------------------------------------------------------- sizes */

/* Product of dims, false on overflow past 2^62. */
static bool dims_count(const long long *dims, int ndims, long long *count) {
    long long n = 1;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] < 0 || (dims[i] && n > (1LL << 62) / dims[i]))
            return false;
        n *= dims[i];
    }
    *count = n;
    return true;
}

static const char *dims_str(const long long *dims, int ndims) {
    char buf[256];
    size_t n = 0;
    buf[n++] = '(';
    for (int i = 0; i < ndims && n < sizeof buf - 32; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, i ? ", %lld" : "%lld", dims[i]);
    snprintf(buf + n, sizeof buf - n, ndims == 1 ? ",)" : ")");
    return arena_strdup(buf);
}

/* -------------------------------------------------------------- npy_parse */

/* Splits the file into header text and data; checks magic and version. */
static bool npy_split(const unsigned char *buf, size_t len, const char **hdr, size_t *hdr_len,
                      size_t *data_off, char *err, size_t errlen) {
    if (len < NPY_MAGIC_LEN || memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN)) {
        snprintf(err, errlen, "not a .npy file (bad magic)");
        return false;
    }
    if (len < 10) {
        snprintf(err, errlen, "truncated: file ends inside the .npy preamble");
        return false;
    }
    int major = buf[6];
    if (major < 1 || major > 3) {
        snprintf(err, errlen, "unsupported .npy version %d.%d (expected 1, 2 or 3)", major, buf[7]);
        return false;
    }
    size_t start = major == 1 ? 10 : 12;
    if (len < start) {
        snprintf(err, errlen, "truncated: file ends inside the .npy preamble");
        return false;
    }
    size_t n = major == 1 ? (size_t)buf[8] | (size_t)buf[9] << 8
                          : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (n > len - start) {
        snprintf(err, errlen, "truncated header: says %zu bytes, file has %zu", n, len - start);
        return false;
    }
    *hdr = (const char *)buf + start;
    *hdr_len = n;
    *data_off = start + n;
    return true;
}

/* Declared size against actual size, both ways. */
static bool check_data_size(const RawTensor *out, int itemsize, char *err, size_t errlen) {
    long long count;
    if (!dims_count(out->dims, out->ndims, &count) || count > (1LL << 62) / itemsize) {
        snprintf(err, errlen, "shape %s is too large", dims_str(out->dims, out->ndims));
        return false;
    }
    unsigned long long need = (unsigned long long)count * (unsigned long long)itemsize;
    if (need > out->nbytes) {
        snprintf(err, errlen, "truncated: header says %llu bytes of data, file has %zu", need, out->nbytes);
        return false;
    }
    if (need < out->nbytes) {
        snprintf(err, errlen, "%zu unexpected bytes after the data", out->nbytes - (size_t)need);
        return false;
    }
    return true;
}

bool npy_parse(const unsigned char *buf, size_t len, RawTensor *out, char *err, size_t errlen) {
    const char *hdr;
    size_t hdr_len, data_off;
    memset(out, 0, sizeof *out);
    if (!npy_split(buf, len, &hdr, &hdr_len, &data_off, err, errlen))
        return false;
    char descr[32];
    HeaderParser hp = {hdr, hdr + hdr_len, err, errlen, false, false};
    if (!parse_header_dict(&hp, out, descr, sizeof descr))
        return false;
    int itemsize = 0;
    if (hp.structured)
        out->dtype = DT_OTHER;
    else if (!descr_classify(descr, out, &itemsize)) {
        snprintf(err, errlen, "unknown dtype '%s'", descr);
        return false;
    }
    out->dtype_name = arena_strdup(descr);
    out->bytes = buf + data_off;
    out->nbytes = len - data_off;
    return !itemsize || check_data_size(out, itemsize, err, errlen);
}

bool npy_load(const char *path, RawTensor *out, char *err, size_t errlen) {
    size_t len;
    char *buf = read_whole_file(path, &len);
    if (!buf) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    return npy_parse((const unsigned char *)buf, len, out, err, errlen);
}

/* ---------------------------------------------------------- conversion */

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13;      /* inf, nan */
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant) {                                /* subnormal: normalise */
        int e = 113;
        while (!(mant & 0x400)) {
            mant <<= 1;
            e--;
        }
        bits = sign | (uint32_t)e << 23 | (mant & 0x3ff) << 13;
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Element i of the raw data as float, honouring byte order. */
static float raw_element(const RawTensor *raw, int itemsize, size_t i) {
    unsigned char b[8];
    const unsigned char *src = raw->bytes + i * (size_t)itemsize;
    for (int k = 0; k < itemsize; k++)
        b[k] = raw->big_endian ? src[itemsize - 1 - k] : src[k];
    uint64_t v = 0;
    for (int k = itemsize - 1; k >= 0; k--)
        v = v << 8 | b[k];
    if (raw->dtype == DT_F16)
        return half_to_float((uint16_t)v);
    uint32_t u32 = raw->dtype == DT_BF16 ? (uint32_t)v << 16 : (uint32_t)v;
    if (raw->dtype == DT_F64) {
        double d;
        memcpy(&d, &v, 8);
        return (float)d;
    }
    float f;
    memcpy(&f, &u32, 4);
    return f;
}

/* C-order offset of the element at multi-index idx. */
static size_t c_offset(const long long *idx, const long long *dims, int ndims) {
    size_t off = 0;
    for (int d = 0; d < ndims; d++)
        off = off * (size_t)dims[d] + (size_t)idx[d];
    return off;
}

/* Reads the data in file order; Fortran order has the first index fastest. */
static void convert_elements(const RawTensor *raw, int itemsize, long long count, float *dst) {
    long long idx[8] = {0};
    bool transpose = raw->fortran_order && raw->ndims > 1;
    for (long long i = 0; i < count; i++) {
        float v = raw_element(raw, itemsize, (size_t)i);
        if (!transpose) {
            dst[i] = v;
            continue;
        }
        dst[c_offset(idx, raw->dims, raw->ndims)] = v;
        for (int d = 0; d < raw->ndims && ++idx[d] == raw->dims[d]; d++)
            idx[d] = 0;
    }
}

static bool check_float_dtype(const RawTensor *raw, char *err, size_t errlen) {
    const char *name = raw->dtype_name ? raw->dtype_name : "?";
    if (raw->dtype == DT_INT)
        snprintf(err, errlen, "integer tensor (dtype %s) where float weights are expected", name);
    else if (raw->dtype == DT_BOOL)
        snprintf(err, errlen, "boolean tensor (dtype %s) where float weights are expected", name);
    else if (!dtype_itemsize(raw->dtype))
        snprintf(err, errlen, "unsupported dtype %s (expected float16, bfloat16, float32 or float64)", name);
    else
        return true;
    return false;
}

bool raw_to_tensor(const RawTensor *raw, Tensor *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!check_float_dtype(raw, err, errlen))
        return false;
    int itemsize = dtype_itemsize(raw->dtype);
    long long count;
    if (raw->ndims < 0 || raw->ndims > 8 || !dims_count(raw->dims, raw->ndims, &count) ||
        count > (1LL << 62) / itemsize || (unsigned long long)count * (unsigned long long)itemsize != raw->nbytes) {
        snprintf(err, errlen, "shape %s of %s does not match %zu bytes of data",
                 dims_str(raw->dims, raw->ndims), raw->dtype_name ? raw->dtype_name : "?", raw->nbytes);
        return false;
    }
    out->data = arena_alloc((size_t)count * sizeof(float));
    out->count = count;
    out->ndims = raw->ndims;
    memcpy(out->dims, raw->dims, sizeof out->dims);
    convert_elements(raw, itemsize, count, out->data);
    return true;
}
