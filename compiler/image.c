/* image.c — images for `cnnc run`: .pgm/.ppm by hand, .png through libpng.
 *
 * Every image becomes H-W-C floats on the 0..255 scale in the arena: a sample
 * s of a file whose largest value is maxval reads as s * 255 / maxval (exact
 * for 8 bits; 16-bit and other maxvals are scaled, not truncated).
 *
 * Netpbm: P2/P5 (gray) and P3/P6 (rgb); the header is magic, width, height,
 * maxval separated by white space, with `#` comments running to the end of a
 * line; binary samples are one byte, or two big-endian bytes when maxval > 255.
 *
 * PNG: libpng's transforms expand palettes to RGB and low bit depths to 8;
 * an alpha channel is dropped (not composited), so gray+alpha reads as one
 * channel and RGBA as three.  16-bit samples are kept and scaled by 255/65535.
 * libpng reports errors by longjmp; all our allocations are in the arena, so
 * the error path only has to close the file. */
#include "cnnc.h"

#include <ctype.h>
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

typedef struct Image {
    int h, w, c;
    float *px;
} Image;

static float *alloc_pixels(const Image *im) {
    return arena_alloc((size_t)im->h * im->w * im->c * sizeof(float));
}

/* ----------------------------------------------------------------- Netpbm */

typedef struct Reader {
    const unsigned char *p, *end;
} Reader;

static void skip_space_and_comments(Reader *r) {
    while (r->p < r->end && (isspace(*r->p) || *r->p == '#')) {
        if (*r->p == '#')
            while (r->p < r->end && *r->p != '\n')
                r->p++;
        else
            r->p++;
    }
}

/* A decimal number; false if there is none or it exceeds `max`. */
static bool read_uint(Reader *r, long max, long *out) {
    skip_space_and_comments(r);
    if (r->p >= r->end || !isdigit(*r->p))
        return false;
    long v = 0;
    while (r->p < r->end && isdigit(*r->p)) {
        v = v * 10 + (*r->p++ - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static bool read_netpbm_header(Reader *r, Image *im, long *maxval, char *err, size_t errlen) {
    long w, h;
    if (!read_uint(r, 1 << 16, &w) || !read_uint(r, 1 << 16, &h) || !read_uint(r, 65535, maxval)
        || w < 1 || h < 1 || *maxval < 1) {
        snprintf(err, errlen, "bad header (width, height, maxval 1..65535 expected)");
        return false;
    }
    im->w = (int)w;
    im->h = (int)h;
    return true;
}

static bool read_ascii_samples(Reader *r, Image *im, long maxval, char *err, size_t errlen) {
    long n = (long)im->h * im->w * im->c;
    for (long i = 0; i < n; i++) {
        long v;
        if (!read_uint(r, maxval, &v)) {
            snprintf(err, errlen, "sample %ld of %ld is missing or above maxval %ld", i + 1, n, maxval);
            return false;
        }
        im->px[i] = (float)(v * 255.0 / maxval);
    }
    return true;
}

static bool read_binary_samples(Reader *r, Image *im, long maxval, char *err, size_t errlen) {
    long n = (long)im->h * im->w * im->c;
    int bytes = maxval > 255 ? 2 : 1;
    if (r->p < r->end)
        r->p++; /* the single white-space byte after maxval */
    if (r->end - r->p < (ptrdiff_t)n * bytes) {
        snprintf(err, errlen, "pixel data is truncated (%ld bytes expected, %td present)",
                 n * bytes, r->end - r->p);
        return false;
    }
    for (long i = 0; i < n; i++) {
        long v = bytes == 2 ? r->p[2 * i] << 8 | r->p[2 * i + 1] : r->p[i];
        im->px[i] = (float)((v > maxval ? maxval : v) * 255.0 / maxval);
    }
    return true;
}

static bool load_netpbm(const unsigned char *buf, size_t len, Image *im, char *err, size_t errlen) {
    if (len < 2 || buf[0] != 'P' || !buf[1] || !strchr("2356", buf[1])) {
        snprintf(err, errlen, "not a PGM/PPM file (expected magic P2, P3, P5 or P6)");
        return false;
    }
    char kind = (char)buf[1];
    Reader r = {buf + 2, buf + len};
    long maxval;
    if (!read_netpbm_header(&r, im, &maxval, err, errlen))
        return false;
    im->c = kind == '3' || kind == '6' ? 3 : 1;
    if ((long long)im->h * im->w * im->c > (long long)len) { /* before allocating */
        snprintf(err, errlen, "pixel data is truncated (%dx%dx%d samples declared, %zu bytes in file)",
                 im->h, im->w, im->c, len);
        return false;
    }
    im->px = alloc_pixels(im);
    if (kind == '2' || kind == '3')
        return read_ascii_samples(&r, im, maxval, err, errlen);
    return read_binary_samples(&r, im, maxval, err, errlen);
}

/* -------------------------------------------------------------------- PNG */

typedef struct PngError {
    jmp_buf jump;
    char message[200];
} PngError;

static void png_error_handler(png_structp png, png_const_charp message) {
    PngError *e = png_get_error_ptr(png);
    snprintf(e->message, sizeof e->message, "%s", message);
    longjmp(e->jump, 1);
}

static void png_warning_handler(png_structp png, png_const_charp message) {
    (void)png;
    (void)message; /* warnings (e.g. a bad gamma chunk) do not change the pixels we read */
}

/* Palette → RGB, low-bit gray → 8 bits, alpha dropped; 16 bits kept. */
static void set_png_transforms(png_structp png, png_infop info) {
    int type = png_get_color_type(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_alpha(png); /* also the alpha a palette's tRNS expands to; no-op without alpha */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static void png_rows_to_floats(png_structp png, png_infop info, png_bytepp rows, Image *im) {
    bool wide = png_get_bit_depth(png, info) == 16;
    long per_row = (long)im->w * im->c;
    for (int y = 0; y < im->h; y++)
        for (long i = 0; i < per_row; i++) {
            const png_byte *s = rows[y];
            double v = wide ? (s[2 * i] << 8 | s[2 * i + 1]) * (255.0 / 65535) : s[i];
            im->px[y * per_row + i] = (float)v;
        }
}

static void read_png(png_structp png, png_infop info, Image *im) {
    png_read_info(png, info);
    set_png_transforms(png, info);
    im->w = (int)png_get_image_width(png, info);
    im->h = (int)png_get_image_height(png, info);
    im->c = png_get_channels(png, info);
    png_bytepp rows = arena_alloc((size_t)im->h * sizeof *rows);
    size_t rowbytes = png_get_rowbytes(png, info);
    for (int y = 0; y < im->h; y++)
        rows[y] = arena_alloc(rowbytes);
    png_read_image(png, rows);
    im->px = alloc_pixels(im);
    png_rows_to_floats(png, info, rows, im);
}

static bool load_png(FILE *f, Image *im, char *err, size_t errlen) {
    PngError e = {.message = ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, png_error_handler, png_warning_handler);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(err, errlen, "out of memory in libpng");
        return false;
    }
    if (setjmp(e.jump)) {
        png_destroy_read_struct(&png, &info, NULL);
        snprintf(err, errlen, "bad PNG: %s", e.message);
        return false;
    }
    png_init_io(png, f);
    read_png(png, info, im);
    png_destroy_read_struct(&png, &info, NULL);
    return true;
}

/* ------------------------------------------------------------------ entry */

static bool load_png_file(const char *path, Image *im, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    char why[240];
    bool ok = load_png(f, im, why, sizeof why);
    fclose(f);
    if (!ok)
        snprintf(err, errlen, "'%s': %s", path, why);
    return ok;
}

static bool load_netpbm_file(const char *path, Image *im, char *err, size_t errlen) {
    size_t len;
    const unsigned char *buf = (const unsigned char *)read_whole_file(path, &len);
    if (!buf) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    char why[240];
    if (!load_netpbm(buf, len, im, why, sizeof why)) {
        snprintf(err, errlen, "'%s': %s", path, why);
        return false;
    }
    return true;
}

bool image_load(const char *path, int *h, int *w, int *c, float **pixels, char *err, size_t errlen) {
    Image im = {0};
    bool ok = ends_with(path, ".png") || ends_with(path, ".PNG") ? load_png_file(path, &im, err, errlen)
                                                                 : load_netpbm_file(path, &im, err, errlen);
    if (!ok)
        return false;
    *h = im.h;
    *w = im.w;
    *c = im.c;
    *pixels = im.px;
    return true;
}
