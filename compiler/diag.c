/* diag.c — the one diagnostic routine.
 *
 *   mnist.cnn:5:15: error: unknown attribute 'filter'; did you mean 'filters'?
 *   conv1: conv2d filter=32 kernel=3
 *                 ^~~~~~
 *
 * The source line is printed verbatim; the caret line copies its tabs so the
 * caret lands under the column whatever the tab width.  Columns count
 * characters (UTF-8 code points), not bytes. */
#include "cnnc.h"

#include <string.h>

static FILE *diag_out;
static int error_count;

void diag_set_stream(FILE *out) { diag_out = out; }
int diag_error_count(void) { return error_count; }
void diag_reset(void) { error_count = 0; }

static FILE *stream(void) { return diag_out ? diag_out : stderr; }

/* The text is scanned by its length, not as a C string: a NUL byte in it
 * (reported by the lexer) must not hide the lines after it. */
static const char *line_start(const SrcFile *f, int line) {
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < line && p; l++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (p)
            p++;
    }
    return p;
}

/* Bytes from START to the end of its line (without the newline). */
static size_t line_length(const SrcFile *f, const char *start) {
    const char *nl = memchr(start, '\n', (size_t)(f->text + f->len - start));
    return nl ? (size_t)(nl - start) : (size_t)(f->text + f->len - start);
}

static bool is_continuation_byte(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* The source line, then blanks up to the column and ^~~ over len characters. */
static void print_source_line(Loc loc) {
    if (!loc.file || !loc.file->text || loc.line < 1)
        return;
    const char *start = line_start(loc.file, loc.line);
    if (!start)
        return;
    size_t n = line_length(loc.file, start);
    if (n && start[n - 1] == '\r')
        n--;
    FILE *out = stream();
    fwrite(start, 1, n, out);
    fputc('\n', out);
    int col = 1;
    const char *p = start;
    for (; p < start + n && col < loc.col; p++) {
        if (is_continuation_byte(*p))
            continue;
        fputc(*p == '\t' ? '\t' : ' ', out);
        col++;
    }
    fputc('^', out);
    for (int i = 1; i < loc.len; i++)
        fputc('~', out);
    fputc('\n', out);
}

static void report(Loc loc, const char *kind, const char *fmt, va_list ap) {
    FILE *out = stream();
    if (loc.file)
        fprintf(out, "%s:%d:%d: %s: ", loc.file->path, loc.line, loc.col, kind);
    else
        fprintf(out, "cnnc: %s: ", kind);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    print_source_line(loc);
}

void error_at(Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(loc, "error", fmt, ap);
    va_end(ap);
    error_count++;
}

void warning_at(Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(loc, "warning", fmt, ap);
    va_end(ap);
}

void note_at(Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(loc, "note", fmt, ap);
    va_end(ap);
}

void error_plain(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report((Loc){0}, "error", fmt, ap);
    va_end(ap);
    error_count++;
}
