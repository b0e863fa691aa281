/* driver.c — see driver.h.  Method: everything goes through the shell
 * (popen), because the tests drive real tools — cnnc, gcc, clang, make,
 * qemu — exactly as a user would.  Compiling uses a generated Makefile with
 * `make -k -j2` so that one broken model does not hide the others and the
 * two cores are used. */
#define _XOPEN_SOURCE 700   /* realpath, mkdtemp */
#include "driver.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *cnnc_path(void) { return env_or("CNNC", "../build/compiler/cnnc"); }
const char *runtime_dir(void) { return env_or("CNNC_RUNTIME", "../runtime"); }
const char *fixtures_dir(void) { return env_or("CNNC_FIXTURES", "fixtures/models"); }

const char *emu_dir(void) { return env_or("CNNC_EMU", "emu"); }

char *emulated_flags(const char *extra) {
    return format("-O0 -Wno-psabi -I%s %s", emu_dir(), extra);
}

const char *e2e_dir(void) {
    static char path[PATH_MAX];
    if (!path[0] && !realpath(env_or("CNNC_E2E", "e2e"), path))
        strcpy(path, "e2e");
    return path;
}

char *format(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

int run_command(const char *cmd, char **out) {
    char *full = format("(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t len = 0, cap = 4096, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0)
        if ((len += got) + 1 == cap)
            buf = realloc(buf, cap *= 2);
    buf[len] = '\0';
    int status = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

char *read_text(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    if (len)
        *len = (long)got;
    return buf;
}

char *make_scratch_dir(const char *tag) {
    char *templ = format("%s/cnnc-%s-XXXXXX", env_or("TMPDIR", "/tmp"), tag);
    if (!mkdtemp(templ)) {
        free(templ);
        return NULL;
    }
    return templ;
}

void remove_tree(const char *dir) {
    if (getenv("CNNC_KEEP"))   /* keep scratch files to debug a failure */
        return;
    char *cmd = format("rm -rf '%s'", dir);
    run_command(cmd, NULL);
    free(cmd);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int list_fixtures(char ***names) {
    DIR *d = opendir(fixtures_dir());
    int n = 0, cap = 64;
    *names = malloc(sizeof(char *) * (size_t)cap);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *model = format("%s/%s/model.cnn", fixtures_dir(), e->d_name);
        if (e->d_name[0] != '.' && file_exists(model)) {
            if (n == cap)
                *names = realloc(*names, sizeof(char *) * (size_t)(cap *= 2));
            (*names)[n++] = format("%s", e->d_name);
        }
        free(model);
    }
    if (d)
        closedir(d);
    qsort(*names, (size_t)n, sizeof(char *), compare_names);
    return n;
}

static char *compile_flags(const Toolchain *tc) {
    return format("-std=c11 -Wall -Wextra -Wpedantic -Werror %s%s%s", tc->flags,
                  tc->runtime_include ? " -I" : "", tc->runtime_include ? runtime_dir() : "");
}

/* One rule per model object; each rule keeps its messages in NAME.log. */
static void write_makefile(const char *dir, const Toolchain *tc, char **names, int n) {
    char *path = format("%s/%s/Makefile", dir, tc->label);
    FILE *f = fopen(path, "w");
    char *flags = compile_flags(tc);
    fprintf(f, "all:");
    for (int i = 0; i < n; i++)
        fprintf(f, " %s.o", names[i]);
    fprintf(f, "\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s.o: ../%s.c\n\t@%s %s -c ../%s.c -o %s.o > %s.log 2>&1\n", names[i],
                names[i], tc->cc, flags, names[i], names[i], names[i]);
    fclose(f);
    free(flags);
    free(path);
}

static void write_model_list(const char *path, char **names, const bool *ok, int n) {
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n; i++)
        if (ok[i])
            fprintf(f, "#include \"../%s.h\"\n", names[i]);
    fprintf(f, "#define HARNESS_MODEL_LIST(X)");
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        fprintf(f, " \\\n    X(%s, ", names[i]);
        for (const char *c = names[i]; *c; c++)
            fputc(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c, f);
        fprintf(f, ")");
    }
    fprintf(f, "\n");
    fclose(f);
}

static char *link_harness(const char *dir, const Toolchain *tc, char **names, const bool *ok, int n) {
    char *flags = compile_flags(tc), *objs = format("%s", ""), *out = NULL;
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        char *more = format("%s %s.o", objs, names[i]);
        free(objs);
        objs = more;
    }
    char *cmd = format("cd '%s/%s' && %s %s -I. -DHARNESS_MODELS='\"models.inc\"' %s/harness.c "
                       "%s/npyio.c%s -o harness -lm%s", dir, tc->label, tc->cc, flags, e2e_dir(),
                       e2e_dir(), objs, strstr(tc->cc, "aarch64") ? " -static" : "");
    int status = run_command(cmd, &out);
    free(cmd);
    free(objs);
    free(flags);
    if (status == 0) {
        free(out);
        return NULL;
    }
    return out;
}

bool build_harness(const char *dir, const Toolchain *tc, char **names, int n,
                   bool *ok, char ***logs) {
    char *sub = format("%s/%s", dir, tc->label);
    mkdir(sub, 0755);
    write_makefile(dir, tc, names, n);
    char *cmd = format("make -s -k -j2 -C '%s'", sub);
    run_command(cmd, NULL);
    free(cmd);
    *logs = calloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) {
        char *obj = format("%s/%s.o", sub, names[i]), *log = format("%s/%s.log", sub, names[i]);
        ok[i] = file_exists(obj);
        if (!ok[i])
            (*logs)[i] = read_text(log, NULL);
        free(obj);
        free(log);
    }
    char *list = format("%s/models.inc", sub);
    write_model_list(list, names, ok, n);
    char *link_error = link_harness(dir, tc, names, ok, n);
    for (int i = 0; link_error && i < n; i++)
        if (ok[i]) {
            ok[i] = false;
            (*logs)[i] = format("harness does not link:\n%s", link_error);
        }
    free(link_error);
    free(list);
    free(sub);
    return !link_error;
}

bool run_harness(const char *dir, const Toolchain *tc, const char *name,
                 const char *input, const char *expected, char **report) {
    char *cmd = format("%s %s/%s/harness %s '%s' '%s'", tc->runner, dir, tc->label, name,
                       input, expected);
    int status = run_command(cmd, report);
    free(cmd);
    return status == 0 && !strncmp(*report, "ok ", 3);
}

bool toolchain_works(const Toolchain *tc) {
    char *dir = make_scratch_dir("probe");
    char *src = format("%s/probe.c", dir);
    write_text(src, "int main(void) { return 0; }\n");
    char *cmd = format("%s %s %s -o %s/probe%s && %s %s/probe", tc->cc, tc->flags, src, dir,
                       strstr(tc->cc, "aarch64") ? " -static" : "", tc->runner, dir);
    bool works = run_command(cmd, NULL) == 0;
    free(cmd);
    free(src);
    remove_tree(dir);
    free(dir);
    return works;
}

bool cpu_has(const char *feature) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!strcmp(feature, "sse4.1"))
        return __builtin_cpu_supports("sse4.1");
    if (!strcmp(feature, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    (void)feature;
    return false;
#endif
}
