/* emit_harness.c — see emit_harness.h. */
#include "emit_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *runtime_dir(void) {
    const char *d = getenv("CNNC_RUNTIME");
    return d ? d : "../runtime";
}

char *tmpdir_new(const char *tag) {
    char *dir = arena_printf("/tmp/cnnc_%s_XXXXXX", tag);
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

Model *checked_model(const char *text) {
    diag_reset();
    Program *prog = parse_program(srcfile_from_string("tests/model.cnn", text));
    Model *m = check_program(prog, true);
    cr_assert_eq(diag_error_count(), 0, "model did not check:\n%s", text);
    return m;
}

Ir *lower_and_plan(const Model *m, const char *target) {
    EmitOptions opts = {.target = target_by_name(target)};
    Ir *ir = lower_model(m, &opts);
    plan_memory(ir);
    return ir;
}

void write_model(const Ir *ir, const EmitOptions *opts, const char *dir) {
    FILE *c = fopen(arena_printf("%s/model.c", dir), "w");
    FILE *h = fopen(arena_printf("%s/model.h", dir), "w");
    cr_assert(c && h);
    emit_c(ir, opts, c, h);
    fclose(c);
    fclose(h);
}

static const char *driver_calls(DriverKind kind) {
    if (kind == DRIVER_NAN_WORKSPACE)
        return "    memset(ws, 0xff, sizeof ws);\n    t_infer_ws(input, a, ws);\n"
               "    memset(ws, 0xff, sizeof ws);\n    t_infer_ws(input, b, ws);\n";
    return "    t_infer(input, a);\n    t_infer_ws(input, b, ws);\n";
}

void write_driver(const Model *m, const float *input, const char *dir, DriverKind kind) {
    FILE *f = fopen(arena_printf("%s/main.c", dir), "w");
    cr_assert_not_null(f);
    fprintf(f, "#include \"model.h\"\n#include <stdio.h>\n#include <string.h>\n");
    fprintf(f, "static const float input[] = {");
    for (long long i = 0; i < shape_count(m->input); i++)
        fprintf(f, "(float)%.9g,", (double)input[i]);
    fprintf(f, "};\nstatic _Alignas(64) unsigned char ws[T_WORKSPACE_SIZE + 1];\n");
    fprintf(f, "int main(void) {\n    float a[T_OUTPUT_SIZE], b[T_OUTPUT_SIZE];\n%s", driver_calls(kind));
    fprintf(f, "    if (memcmp(a, b, sizeof a)) return 3;\n"
               "    for (int i = 0; i < T_OUTPUT_SIZE; i++) printf(\"%%.9g\\n\", (double)b[i]);\n"
               "    return 0;\n}\n");
    fclose(f);
}

int run(const char *cmd) {
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool have(const char *tool) {
    return run(arena_printf("command -v %s > /dev/null 2>&1", tool)) == 0;
}

float *read_outputs(const char *path, long long n) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    float *out = arena_alloc((size_t)n * sizeof *out);
    for (long long i = 0; i < n; i++)
        cr_assert_eq(fscanf(f, "%f", &out[i]), 1, "%s: value %lld missing", path, i);
    fclose(f);
    return out;
}
