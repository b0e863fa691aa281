/* util.c — the arena, growable arrays, paths, and the "did you mean" helper.
 *
 * The compiler is a batch program: it allocates as it goes and frees
 * everything once at exit.  Each allocation is its own malloc block chained
 * into a list, so large weight tensors cost no copying. */
#include "cnnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Block {
    struct Block *next;
    max_align_t align[];
} Block;

static Block *arena_blocks;

void *arena_alloc(size_t size) {
    Block *b = calloc(1, sizeof(Block) + size + 1);
    if (!b)
        die("out of memory allocating %zu bytes", size);
    b->next = arena_blocks;
    arena_blocks = b;
    return b->align;
}

char *arena_strndup(const char *s, size_t n) {
    char *p = arena_alloc(n + 1);
    memcpy(p, s, n);
    return p;
}

char *arena_strdup(const char *s) { return arena_strndup(s, strlen(s)); }

char *arena_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_free_all(void) {
    while (arena_blocks) {
        Block *next = arena_blocks->next;
        free(arena_blocks);
        arena_blocks = next;
    }
}

void vec_grow_(void **items, int *cap, size_t elem_size) {
    int new_cap = *cap ? *cap * 2 : 8;
    void *p = arena_alloc((size_t)new_cap * elem_size);
    if (*items)
        memcpy(p, *items, (size_t)*cap * elem_size);
    *items = p;
    *cap = new_cap;
}

_Noreturn void die_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "cnnc: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

char *read_whole_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            die("out of memory reading %s", path);
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    char *out = arena_strndup(buf, n);
    free(buf);
    if (len)
        *len = n;
    return out;
}

char *path_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return arena_strdup(".");
    if (slash == path)
        return arena_strdup("/");
    return arena_strndup(path, (size_t)(slash - path));
}

char *path_join(const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir[0] || !strcmp(dir, "."))
        return arena_strdup(rel);
    return arena_printf("%s/%s", dir, rel);
}

char *path_stem(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return arena_strndup(base, n);
}

bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int rename_all(const char *const *tmps, const char *const *paths, int n) {
    const char **backups = arena_alloc((size_t)n * sizeof *backups);
    for (int i = 0; i < n; i++) {   /* a second name for each output that exists */
        const char *backup = arena_printf("%s.old", tmps[i]);
        backups[i] = link(paths[i], backup) == 0 ? backup : NULL;
    }
    int failed = -1;
    for (int i = 0; i < n && failed < 0; i++)
        if (rename(tmps[i], paths[i]) != 0)
            failed = i;
    int saved = errno;
    for (int i = 0; i < n; i++) {
        bool undo = i < failed;
        if (backups[i] && undo)
            rename(backups[i], paths[i]);   /* the previous output is back */
        else if (backups[i])
            remove(backups[i]);
        else if (undo)
            remove(paths[i]);   /* there was none, or it could not be linked */
    }
    errno = saved;
    return failed;
}

static int edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return 1 << 20;
    int row[64];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

const char *closest_word(const char *word, const char *const *candidates, int n) {
    for (int i = 0; i < n; i++)   /* ReLU → relu: a difference of case only */
        if (!strcasecmp(word, candidates[i]))
            return candidates[i];
    const char *best = NULL;
    int best_d = 1 << 20;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Close means: at most a third of the word is wrong (and at least one edit). */
    int limit = (int)strlen(word) / 3 + 1;
    return best_d <= limit ? best : NULL;
}
