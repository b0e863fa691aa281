/* main.c — the command line and the pipeline:
 *
 *   parse → check → lower → plan → emit
 *
 * (lower_model runs layout.c's place_frames itself: it must come after the
 * kernels are chosen and before they pack their arrays.)
 * Only this file decides the exit status: 0 success, 1 an error in the model
 * or its files, 2 wrong command-line use.  Output files are written to
 * temporaries and renamed into place only when everything succeeded, so an
 * error never leaves a partial .c or .h behind. */
#include "cnnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { DUMP_NONE, DUMP_TOKENS, DUMP_AST, DUMP_SHAPES, DUMP_IR } DumpKind;

typedef struct Options {
    const char *model_path;
    const char *out_path;
    const char *input_path;    /* cnnc run */
    const char *output_path;   /* cnnc run */
    bool run;
    bool summary;
    bool weights_c;            /* --weights-c: arrays in OUT_weights.c */
    DumpKind dump;
    EmitOptions emit;
} Options;

static const char usage_text[] =
    "usage: cnnc MODEL.cnn [-o OUT.c] [--target=auto|scalar|sse4|avx2|avx512|neon]\n"
    "                      [--unroll=auto|full|none] [--standalone] [--weights-c]\n"
    "                      [--decimal-weights]\n"
    "       cnnc MODEL.cnn --summary\n"
    "       cnnc MODEL.cnn --dump=tokens|ast|shapes|ir\n"
    "       cnnc run MODEL.cnn --input IN.npy|IN.pgm|IN.ppm|IN.png [--output OUT.npy]\n"
    "       cnnc --help | --version\n";

static const char help_text[] =
    "\n"
    "cnnc compiles a convolutional network described in a .cnn file, with its\n"
    "trained weights, into self-contained C: MODEL.c and MODEL.h.\n"
    "\n"
    "  -o OUT.c            write OUT.c and OUT.h (default: STEM.c, STEM.h here)\n"
    "  --target=T          SIMD flavour of the emitted code (default auto: the\n"
    "                      best path the C compiler enables, scalar fallback)\n"
    "  --unroll=MODE       auto (default): unroll where it pays, but keep the\n"
    "                      loops of any function over 64 KB of C per ISA; full:\n"
    "                      unroll everything (slow to compile); none: loops\n"
    "  --standalone        emitted C needs no runtime files at all\n"
    "  --weights-c         put the weights in a second file, OUT_weights.c\n"
    "  --decimal-weights   write large weight arrays as decimal floats, not\n"
    "                      packed little-endian words (big-endian targets)\n"
    "  --summary           layer table: shapes, parameters, MACs, memory\n"
    "  --dump=PHASE        print tokens, ast, shapes or ir and stop\n"
    "  run MODEL --input IN [--output OUT.npy]\n"
    "                      run the model with the reference interpreter\n";

static _Noreturn void usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "cnnc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    exit(2);
}

static DumpKind parse_dump(const char *what) {
    static const char *const names[] = {"tokens", "ast", "shapes", "ir"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(what, names[i]))
            return (DumpKind)(DUMP_TOKENS + i);
    usage_error("unknown --dump phase '%s' (tokens, ast, shapes, ir)", what);
}

static UnrollMode parse_unroll(const char *mode) {
    static const char *const names[] = {"auto", "full", "none"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(mode, names[i]))
            return (UnrollMode)(UNROLL_AUTO + i);
    usage_error("unknown --unroll mode '%s' (auto, full, none)", mode);
}

/* The value of `--opt=V` or `--opt V`; advances *i past a separate value. */
static const char *option_value(int argc, char **argv, int *i, const char *opt) {
    size_t n = strlen(opt);
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= argc)
        usage_error("%s needs a value", opt);
    return argv[++*i];
}

static bool is_option(const char *arg, const char *opt) {
    size_t n = strlen(opt);
    return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

static Options parse_args(int argc, char **argv) {
    Options o = {.emit = {.target = target_by_name("auto")}};
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "run")) {
        o.run = true;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", usage_text, help_text);
            exit(0);
        } else if (!strcmp(a, "--version")) {
            printf("cnnc %s\n", CNNC_VERSION);
            exit(0);
        } else if (!strcmp(a, "-o") && !o.run) {
            o.out_path = option_value(argc, argv, &i, "-o");
        } else if (o.run && is_option(a, "--input")) {
            o.input_path = option_value(argc, argv, &i, "--input");
        } else if (o.run && is_option(a, "--output")) {
            o.output_path = option_value(argc, argv, &i, "--output");
        } else if (is_option(a, "--target")) {
            const char *t = option_value(argc, argv, &i, "--target");
            if (!(o.emit.target = target_by_name(t)))
                usage_error("unknown target '%s' (auto, scalar, sse4, avx2, avx512, neon)", t);
        } else if (is_option(a, "--unroll")) {
            o.emit.unroll = parse_unroll(option_value(argc, argv, &i, "--unroll"));
        } else if (!strcmp(a, "--decimal-weights")) {
            o.emit.decimal_weights = true;
        } else if (!strcmp(a, "--standalone")) {
            o.emit.standalone = true;
        } else if (!strcmp(a, "--weights-c")) {
            o.weights_c = true;
        } else if (!strcmp(a, "--summary")) {
            o.summary = true;
        } else if (is_option(a, "--dump")) {
            o.dump = parse_dump(option_value(argc, argv, &i, "--dump"));
        } else if (a[0] == '-' && a[1]) {
            usage_error("unknown option '%s'", a);
        } else if (!o.model_path) {
            o.model_path = a;
        } else {
            usage_error("unexpected argument '%s'", a);
        }
    }
    if (!o.model_path)
        usage_error("%s", "no model file given");
    if (o.run && !o.input_path)
        usage_error("%s", "cnnc run needs --input IN");
    return o;
}

/* `-o X.c` → X.c + X.h; `-o X` → X + X.h; none → STEM.c + STEM.h here. */
static void output_paths(const Options *o, const char **c_path, const char **h_path) {
    if (!o->out_path) {
        const char *stem = path_stem(o->model_path);
        *c_path = arena_printf("%s.c", stem);
        *h_path = arena_printf("%s.h", stem);
    } else if (ends_with(o->out_path, ".c")) {
        *c_path = o->out_path;
        *h_path = arena_printf("%.*s.h", (int)strlen(o->out_path) - 2, o->out_path);
    } else {
        *c_path = o->out_path;
        *h_path = arena_printf("%s.h", o->out_path);
    }
}

/* Like a C compiler given `-o` its own input: the model is not replaced. */
static void refuse_to_overwrite_model(const Options *o, const char *out_path) {
    if (out_path && same_file(out_path, o->model_path))
        usage_error("output '%s' is the model file itself", out_path);
}

static FILE *open_temp(const char *final_path, char **tmp_path) {
    *tmp_path = arena_printf("%s.tmp%ld", final_path, (long)getpid());
    FILE *f = fopen(*tmp_path, "wb");
    if (!f)
        error_plain("cannot write '%s': %s", final_path, strerror(errno));
    return f;
}

/* OUT.c → OUT_weights.c (--weights-c). */
static const char *weights_path(const char *c_path) {
    int stem = (int)strlen(c_path) - (ends_with(c_path, ".c") ? 2 : 0);
    return arena_printf("%.*s_weights.c", stem, c_path);
}

/* Writes the .c, the .h (and the weights .c) through temporaries; renames
 * them only if all went well. */
static int write_outputs(const Ir *ir, Options *o) {
    const char *paths[3];
    char *tmps[3] = {NULL, NULL, NULL};
    FILE *files[3] = {NULL, NULL, NULL};
    output_paths(o, &paths[0], &paths[1]);
    int n = 2;
    if (o->weights_c)
        paths[n++] = weights_path(paths[0]);
    for (int i = 0; i < n; i++)
        refuse_to_overwrite_model(o, paths[i]);
    const char *slash = strrchr(paths[1], '/');
    o->emit.header_name = slash ? slash + 1 : paths[1];
    bool opened = true, failed = false;
    for (int i = 0; i < n && opened; i++)
        opened = (files[i] = open_temp(paths[i], &tmps[i])) != NULL;
    if (opened) {
        o->emit.weights_out = files[2];
        emit_c(ir, &o->emit, files[0], files[1]);
    }
    for (int i = 0; i < n; i++) {
        if (!files[i])
            continue;
        failed |= ferror(files[i]) != 0;
        failed |= fclose(files[i]) != 0;   /* always closed, even after an error */
    }
    if (opened && failed)
        error_plain("cannot write '%s': %s", paths[0], strerror(errno));
    int bad = opened && !failed ? rename_all((const char *const *)tmps, paths, n) : -1;
    if (bad >= 0) {
        error_plain("cannot write '%s': %s", paths[bad], strerror(errno));
        failed = true;
    }
    if (!opened || failed) {
        for (int i = 0; i < n; i++)
            if (tmps[i])
                remove(tmps[i]);
        return 1;
    }
    return 0;
}

static int compile(Options *o) {
    SrcFile *src = srcfile_load(o->model_path);
    if (!src) {
        error_plain("cannot read '%s': %s", o->model_path, strerror(errno));
        return 1;
    }
    o->emit.source_name = o->model_path;
    if (o->dump == DUMP_TOKENS) {
        dump_tokens(src, stdout);
        return diag_error_count() ? 1 : 0;
    }
    Program *prog = parse_program(src);
    if (o->dump == DUMP_AST) {
        dump_ast(prog, stdout);
        return diag_error_count() ? 1 : 0;
    }
    bool need_weights = !o->summary && o->dump != DUMP_SHAPES;
    Model *m = check_program(prog, need_weights);
    if (diag_error_count())
        return 1;
    if (o->dump == DUMP_SHAPES) {
        dump_shapes(m, stdout);
        return 0;
    }
    if (o->run) {
        refuse_to_overwrite_model(o, o->output_path);
        return run_model(m, o->input_path, o->output_path);
    }
    Ir *ir = lower_model(m, &o->emit);
    plan_memory(ir);
    check_compiled_weights(ir);
    if (diag_error_count())
        return 1;
    if (o->summary) {
        print_summary(m, ir_workspace_bytes(ir), stdout);
        return 0;
    }
    if (o->dump == DUMP_IR) {
        dump_ir(ir, stdout);
        return 0;
    }
    return write_outputs(ir, o);
}

int main(int argc, char **argv) {
    Options o = parse_args(argc, argv);
    int status = compile(&o);
    if (status == 0 && diag_error_count())
        status = 1;
    arena_free_all();
    return status;
}
