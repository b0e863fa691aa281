/* safetensors.c — the safetensors format: an 8-byte little-endian header
 * length N, N bytes of JSON, then the tensor data.  The JSON maps each tensor
 * name to {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, with
 * offsets relative to the start of the data; the optional "__metadata__"
 * entry is skipped.
 *
 * Method: a small strict JSON reader written for exactly this: objects,
 * strings with every JSON escape (\uXXXX, surrogate pairs included) decoded
 * to UTF-8, arrays of non-negative integers, and a skipper for any other
 * value with a nesting limit so hostile input cannot exhaust the stack.  The
 * byte ranges are then checked against the data actually present and
 * against the shape times the element size. */
#include "cnnc.h"

#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct Json {
    const char *start, *p, *end;
    char *err;
    size_t errlen;
    bool failed;
} Json;

static bool json_fail(Json *js, const char *what) {
    if (!js->failed)
        snprintf(js->err, js->errlen, "bad JSON header: %s at byte %zu", what, (size_t)(js->p - js->start));
    js->failed = true;
    return false;
}

static void json_blanks(Json *js) {
    while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
        js->p++;
}

static bool json_accept(Json *js, char c) {
    json_blanks(js);
    if (js->p < js->end && *js->p == c) {
        js->p++;
        return true;
    }
    return false;
}

static bool json_expect(Json *js, char c, const char *what) {
    return json_accept(js, c) || json_fail(js, what);
}

/* ----------------------------------------------------------------- strings */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool json_hex4(Json *js, uint32_t *out) {
    if (js->end - js->p < 4)
        return json_fail(js, "short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(js->p[i]);
        if (h < 0)
            return json_fail(js, "bad \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    js->p += 4;
    *out = v;
    return true;
}

/* \uXXXX, with a following low surrogate when XXXX is a high one. */
static bool json_unicode_escape(Json *js, uint32_t *cp) {
    if (!json_hex4(js, cp))
        return false;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return json_fail(js, "lone low surrogate");
    if (*cp < 0xd800 || *cp > 0xdbff)
        return true;
    uint32_t lo;
    if (js->end - js->p < 2 || js->p[0] != '\\' || js->p[1] != 'u')
        return json_fail(js, "high surrogate without its pair");
    js->p += 2;
    if (!json_hex4(js, &lo) || lo < 0xdc00 || lo > 0xdfff)
        return json_fail(js, "bad surrogate pair");
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    return true;
}

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One escape after the backslash, appended to out at *n. */
static bool json_escape(Json *js, char *out, size_t *n) {
    if (js->p >= js->end)
        return json_fail(js, "unterminated string");
    char c = *js->p++;
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = strchr(from, c);
    if (c && hit) {
        out[(*n)++] = to[hit - from];
        return true;
    }
    uint32_t cp;
    if (c != 'u' || !json_unicode_escape(js, &cp))
        return json_fail(js, "bad escape in string");
    if (cp == 0)
        return json_fail(js, "NUL in string");
    *n += utf8_encode(cp, out + *n);
    return true;
}

/* Bytes up to the closing quote: decoded text is never longer, so this
 * bounds the allocation by the string itself, not by the rest of the header. */
static size_t json_raw_string_length(const Json *js) {
    const char *p = js->p;
    while (p < js->end && *p != '"')
        p += *p == '\\' ? 2 : 1;
    return (size_t)((p < js->end ? p : js->end) - js->p);
}

/* A string, decoded into the arena. */
static bool json_string(Json *js, char **out) {
    if (!json_expect(js, '"', "expected a string"))
        return false;
    char *s = arena_alloc(json_raw_string_length(js) + 1);
    size_t n = 0;
    for (;;) {
        if (js->p >= js->end)
            return json_fail(js, "unterminated string");
        char c = *js->p++;
        if (c == '"')
            break;
        if ((unsigned char)c < 0x20)
            return json_fail(js, "control character in string");
        if (c != '\\')
            s[n++] = c;
        else if (!json_escape(js, s, &n))
            return false;
    }
    s[n] = '\0';
    *out = s;
    return true;
}

/* --------------------------------------------------------- other values */

static bool json_skip_value(Json *js, int depth);

static bool json_skip_literal(Json *js) {
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(js->end - js->p) >= n && !memcmp(js->p, words[i], n)) {
            js->p += n;
            return true;
        }
    }
    return json_fail(js, "unexpected character");
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The JSON number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static bool json_skip_number(Json *js) {
    const char *p = js->p, *end = js->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return json_fail(js, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    if (p < end && *p == '.') {
        if (++p >= end || !is_digit(*p))
            return json_fail(js, "bad number");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return json_fail(js, "bad number");
        while (p < end && is_digit(*p))
            p++;
    }
    js->p = p;
    return true;
}

/* Objects and arrays share one loop; keys are checked only for objects. */
static bool json_skip_container(Json *js, char close, int depth) {
    js->p++;
    if (json_accept(js, close))
        return true;
    do {
        char *key;
        if (close == '}' && (!json_string(js, &key) || !json_expect(js, ':', "expected ':'")))
            return false;
        if (!json_skip_value(js, depth + 1))
            return false;
    } while (json_accept(js, ','));
    return json_expect(js, close, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static bool json_skip_value(Json *js, int depth) {
    if (depth > JSON_MAX_DEPTH)
        return json_fail(js, "nesting too deep");
    json_blanks(js);
    if (js->p >= js->end)
        return json_fail(js, "unexpected end");
    char c = *js->p;
    if (c == '{' || c == '[')
        return json_skip_container(js, c == '{' ? '}' : ']', depth);
    if (c == '"') {
        char *s;
        return json_string(js, &s);
    }
    if (c == '-' || is_digit(c))
        return json_skip_number(js);
    return json_skip_literal(js);
}

/* ------------------------------------------------------- integer arrays */

static bool json_uint(Json *js, unsigned long long *out) {
    json_blanks(js);
    if (js->p >= js->end || !is_digit(*js->p))
        return json_fail(js, "expected a non-negative integer");
    unsigned long long v = 0;
    if (*js->p == '0' && js->p + 1 < js->end && is_digit(js->p[1]))
        return json_fail(js, "leading zero in integer");
    while (js->p < js->end && is_digit(*js->p)) {
        if (v > (1ULL << 53))
            return json_fail(js, "integer too large");
        v = v * 10 + (unsigned)(*js->p++ - '0');
    }
    if (js->p < js->end && (*js->p == '.' || *js->p == 'e' || *js->p == 'E'))
        return json_fail(js, "expected an integer");
    *out = v;
    return true;
}

/* At most `max` integers; *n receives how many. */
static bool json_uint_array(Json *js, unsigned long long *vals, int max, int *n) {
    *n = 0;
    if (!json_expect(js, '[', "expected an array"))
        return false;
    if (json_accept(js, ']'))
        return true;
    do {
        if (*n == max)
            return json_fail(js, "array too long");
        if (!json_uint(js, &vals[(*n)++]))
            return false;
    } while (json_accept(js, ','));
    return json_expect(js, ']', "expected ',' or ']'");
}

/* ---------------------------------------------------------- tensor info */

typedef struct DTypeName {
    const char *name;
    DType dtype;
    int bits;   /* per element; the sub-byte floats pack several to a byte */
} DTypeName;

static const DTypeName dtype_names[] = {
    {"F16", DT_F16, 16}, {"BF16", DT_BF16, 16}, {"F32", DT_F32, 32}, {"F64", DT_F64, 64},
    {"I8", DT_INT, 8}, {"I16", DT_INT, 16}, {"I32", DT_INT, 32}, {"I64", DT_INT, 64},
    {"U8", DT_INT, 8}, {"U16", DT_INT, 16}, {"U32", DT_INT, 32}, {"U64", DT_INT, 64},
    {"BOOL", DT_BOOL, 8}, {"F8_E4M3", DT_OTHER, 8}, {"F8_E5M2", DT_OTHER, 8},
    {"F8_E8M0", DT_OTHER, 8}, {"C64", DT_OTHER, 64},
    {"F4", DT_OTHER, 4}, {"F6_E2M3", DT_OTHER, 6}, {"F6_E3M2", DT_OTHER, 6},
};

static const DTypeName *dtype_lookup(const char *name) {
    for (size_t i = 0; i < sizeof dtype_names / sizeof *dtype_names; i++)
        if (!strcmp(dtype_names[i].name, name))
            return &dtype_names[i];
    return NULL;
}

/* What one tensor entry declares, before checking against the data. */
typedef struct Entry {
    const char *dtype;
    unsigned long long shape[8], offsets[2];
    int ndims, noffsets;
    int seen;   /* bit per field: dtype 1, shape 2, data_offsets 4 */
} Entry;

static bool entry_field(Json *js, Entry *e) {
    char *key, *dtype;
    if (!json_string(js, &key) || !json_expect(js, ':', "expected ':'"))
        return false;
    int bit = !strcmp(key, "dtype") ? 1 : !strcmp(key, "shape") ? 2 : !strcmp(key, "data_offsets") ? 4 : 0;
    if (bit & e->seen)
        return json_fail(js, "duplicate field in tensor entry");
    e->seen |= bit;
    if (bit == 1) {
        if (!json_string(js, &dtype))
            return false;
        e->dtype = dtype;
        return true;
    }
    if (bit == 2)
        return json_uint_array(js, e->shape, 8, &e->ndims);
    if (bit == 4)
        return json_uint_array(js, e->offsets, 2, &e->noffsets);
    return json_skip_value(js, 1);
}

static bool parse_entry(Json *js, Entry *e) {
    memset(e, 0, sizeof *e);
    if (!json_expect(js, '{', "expected '{' for a tensor entry"))
        return false;
    if (!json_accept(js, '}')) {
        do {
            if (!entry_field(js, e))
                return false;
        } while (json_accept(js, ','));
        if (!json_expect(js, '}', "expected ',' or '}'"))
            return false;
    }
    if (e->seen != 7)
        return json_fail(js, "tensor entry needs dtype, shape and data_offsets");
    if (e->noffsets != 2)
        return json_fail(js, "data_offsets must hold two integers");
    return true;
}

/* Bits the shape needs; false past 2^60. */
static bool shape_bits(const Entry *e, unsigned bits, unsigned long long *total) {
    unsigned long long n = bits;
    for (int i = 0; i < e->ndims; i++) {
        if (e->shape[i] && n > (1ULL << 60) / e->shape[i])
            return false;
        n *= e->shape[i];
    }
    *total = n;
    return true;
}

/* "[2, 3]", as the file writes it. */
static const char *shape_text(const Entry *e) {
    char buf[256];
    size_t n = 0;
    buf[n++] = '[';
    for (int i = 0; i < e->ndims; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, i ? ", %llu" : "%llu", e->shape[i]);
    snprintf(buf + n, sizeof buf - n, "]");
    return arena_strdup(buf);
}

/* Checks the entry against the data and fills the raw tensor. */
static bool entry_to_raw(const char *name, const Entry *e, const unsigned char *data, size_t data_len,
                         RawTensor *t, char *err, size_t errlen) {
    const DTypeName *dt = dtype_lookup(e->dtype);
    if (!dt) {
        snprintf(err, errlen, "tensor '%s': unknown dtype '%s'", name, e->dtype);
        return false;
    }
    unsigned long long begin = e->offsets[0], end = e->offsets[1], bits;
    if (begin > end || end > data_len) {
        snprintf(err, errlen, "tensor '%s': data_offsets [%llu, %llu] outside the %zu bytes of data",
                 name, begin, end, data_len);
        return false;
    }
    if (!shape_bits(e, (unsigned)dt->bits, &bits)) {
        snprintf(err, errlen, "tensor '%s': shape %s is too large", name, shape_text(e));
        return false;
    }
    if (bits % 8) {   /* as the safetensors library: packed elements end on a byte */
        snprintf(err, errlen, "tensor '%s': shape %s of %s is %llu bits, not whole bytes",
                 name, shape_text(e), e->dtype, bits);
        return false;
    }
    if (bits / 8 != end - begin) {
        snprintf(err, errlen, "tensor '%s': shape %s of %s needs %llu bytes, data_offsets give %llu",
                 name, shape_text(e), e->dtype, bits / 8, end - begin);
        return false;
    }
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = dt->dtype;
    t->dtype_name = dt->name;
    t->ndims = e->ndims;
    for (int i = 0; i < e->ndims; i++)
        t->dims[i] = (long long)e->shape[i];
    t->bytes = data + begin;
    t->nbytes = (size_t)(end - begin);
    return true;
}

/* ------------------------------------------------------------ the header */

typedef VEC(RawTensor) RawTensorVec;

static bool parse_member(Json *js, const unsigned char *data, size_t data_len, RawTensorVec *tensors) {
    char *name;
    if (!json_string(js, &name) || !json_expect(js, ':', "expected ':'"))
        return false;
    if (!strcmp(name, "__metadata__"))
        return json_skip_value(js, 1);
    for (int i = 0; i < tensors->len; i++)
        if (!strcmp(tensors->items[i].name, name)) {
            snprintf(js->err, js->errlen, "tensor '%s' appears twice", name);
            js->failed = true;
            return false;
        }
    Entry e;
    RawTensor t;
    if (!parse_entry(js, &e) || !entry_to_raw(name, &e, data, data_len, &t, js->err, js->errlen))
        return false;
    vec_push(tensors, t);
    return true;
}

static bool parse_header(Json *js, const unsigned char *data, size_t data_len, RawTensorVec *tensors) {
    if (!json_expect(js, '{', "expected '{'"))
        return false;
    if (!json_accept(js, '}')) {
        do {
            if (!parse_member(js, data, data_len, tensors))
                return false;
        } while (json_accept(js, ','));
        if (!json_expect(js, '}', "expected ',' or '}'"))
            return false;
    }
    json_blanks(js);
    return js->p == js->end || json_fail(js, "text after the header object");
}

bool safetensors_parse(const unsigned char *buf, size_t len, Bundle *out, char *err, size_t errlen) {
    out->tensors = NULL;
    out->count = 0;
    if (len < 8) {
        snprintf(err, errlen, "truncated: %zu bytes, a safetensors file starts with an 8-byte length", len);
        return false;
    }
    unsigned long long n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n > len - 8) {
        snprintf(err, errlen, "truncated header: says %llu bytes, file has %zu", n, len - 8);
        return false;
    }
    const char *header = (const char *)buf + 8;
    Json js = {header, header, header + n, err, errlen, false};
    RawTensorVec tensors = {0};
    if (!parse_header(&js, buf + 8 + n, len - 8 - (size_t)n, &tensors))
        return false;
    out->tensors = tensors.items;
    out->count = tensors.len;
    return true;
}
