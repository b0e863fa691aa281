/* npyio.c — see npyio.h.  Method: parse the .npy header dict just enough to
 * find 'descr', 'fortran_order' and 'shape', check the data length against
 * the shape, and convert to double.  Only what the fixtures use is supported. */
#include "npyio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Reads "(a, b, c)" after 'shape': in the header dict. */
static bool parse_shape(const char *hdr, NpyArray *out) {
    const char *p = strstr(hdr, "'shape':");
    if (!p || !(p = strchr(p, '(')))
        return false;
    out->ndims = 0;
    out->count = 1;
    for (p++; *p && *p != ')';) {
        char *end;
        long d = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (out->ndims == 8)
            return false;
        out->dims[out->ndims++] = d;
        out->count *= d;
        p = end;
    }
    return *p == ')';
}

static bool parse_header(const unsigned char *buf, size_t len, NpyArray *out,
                         int *elem_size, size_t *data_off, char *err, size_t errlen) {
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6)) {
        snprintf(err, errlen, "not a .npy file");
        return false;
    }
    size_t hlen = buf[6] == 1 ? (size_t)(buf[8] | buf[9] << 8)
                              : (size_t)(buf[8] | buf[9] << 8 | buf[10] << 16 | (size_t)buf[11] << 24);
    size_t hstart = buf[6] == 1 ? 10 : 12;
    if (hstart + hlen > len) {
        snprintf(err, errlen, "truncated header");
        return false;
    }
    char *hdr = calloc(1, hlen + 1);
    memcpy(hdr, buf + hstart, hlen);
    *elem_size = strstr(hdr, "'<f4'") ? 4 : strstr(hdr, "'<f8'") ? 8 : 0;
    bool ok = *elem_size && !strstr(hdr, "True") && parse_shape(hdr, out);
    if (!ok)
        snprintf(err, errlen, "unsupported header %s", hdr);
    free(hdr);
    *data_off = hstart + hlen;
    return ok;
}

/* Little-endian hosts only, like the fixtures. */
static double *convert_elements(const unsigned char *raw, long count, int elem_size) {
    double *data = malloc(sizeof(double) * (size_t)(count ? count : 1));
    for (long i = 0; i < count; i++) {
        float f;
        if (elem_size == 4) {
            memcpy(&f, raw + 4 * (size_t)i, 4);
            data[i] = f;
        } else {
            memcpy(&data[i], raw + 8 * (size_t)i, 8);
        }
    }
    return data;
}

bool npy_read(const char *path, NpyArray *out, char *err, size_t errlen) {
    size_t len, off;
    int esize;
    unsigned char *buf = read_file(path, &len);
    if (!buf) {
        snprintf(err, errlen, "cannot read %s", path);
        return false;
    }
    memset(out, 0, sizeof *out);
    bool ok = parse_header(buf, len, out, &esize, &off, err, errlen);
    if (ok && len - off != (size_t)out->count * (size_t)esize) {
        snprintf(err, errlen, "%s: %zu data bytes for %ld elements", path, len - off, out->count);
        ok = false;
    }
    if (ok)
        out->data = convert_elements(buf + off, out->count, esize);
    free(buf);
    return ok;
}

bool npy_write_f32(const char *path, const float *data, const long *dims, int ndims) {
    char shape[128] = "", hdr[256];
    long count = 1;
    for (int i = 0; i < ndims; i++) {
        size_t n = strlen(shape);
        snprintf(shape + n, sizeof shape - n, "%ld,%s", dims[i], i + 1 < ndims ? " " : "");
        count *= dims[i];
    }
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    int total = (10 + n + 1 + 63) / 64 * 64;
    memset(hdr + n, ' ', (size_t)(total - 10 - n - 1));
    hdr[total - 10 - 1] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)((total - 10) & 255), (unsigned char)((total - 10) >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(hdr, 1, (size_t)(total - 10), f);
    fwrite(data, sizeof(float), (size_t)count, f);
    return fclose(f) == 0;
}

void npy_free(NpyArray *a) {
    free(a->data);
    a->data = NULL;
}

bool within_tolerance(double got, double expected) {
    return fabs(got - expected) <= 1e-4 * fmax(1.0, fabs(expected));
}

bool compare_arrays(const double *got, const double *expected, long count,
                    char *msg, size_t msglen) {
    long bad = 0, worst = -1;
    double worst_excess = 0;
    for (long i = 0; i < count; i++) {
        if (within_tolerance(got[i], expected[i]))
            continue;
        double excess = fabs(got[i] - expected[i]) / fmax(1.0, fabs(expected[i]));
        if (isnan(excess))
            excess = INFINITY;
        if (bad++ == 0 || excess > worst_excess) {
            worst = i;
            worst_excess = excess;
        }
    }
    if (bad)
        snprintf(msg, msglen, "%ld of %ld elements off; worst [%ld]: got %.9g, expected %.9g",
                 bad, count, worst, got[worst], expected[worst]);
    return bad == 0;
}
