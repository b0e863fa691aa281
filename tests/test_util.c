/* test_util.c — the diagnostic printer and the small helpers every phase uses. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnnc.h"

static char *captured;
static size_t captured_len;
static FILE *capture;

static void start_capture(void) {
    capture = open_memstream(&captured, &captured_len);
    diag_set_stream(capture);
    diag_reset();
}

static const char *stop_capture(void) {
    fclose(capture);
    diag_set_stream(NULL);
    const char *text = arena_strdup(captured);
    free(captured);
    return text;
}

static const SrcFile *file_of(const char *text) { return srcfile_from_string("m.cnn", text); }

Test(diag, error_has_location_source_line_and_caret) {
    const SrcFile *f = file_of("model m\nconv1: conv2d filter=32\n");
    start_capture();
    error_at((Loc){f, 2, 15, 6}, "unknown attribute '%s'", "filter");
    cr_assert_str_eq(stop_capture(),
                     "m.cnn:2:15: error: unknown attribute 'filter'\n"
                     "conv1: conv2d filter=32\n"
                     "              ^~~~~~\n");
    cr_assert_eq(diag_error_count(), 1);
}

Test(diag, caret_counts_characters_and_keeps_tabs) {
    const SrcFile *f = file_of("# é\n\tdense unit=3 # ü\r\n");
    start_capture();
    warning_at((Loc){f, 2, 8, 4}, "w");
    cr_assert_str_eq(stop_capture(), "m.cnn:2:8: warning: w\n"
                                     "\tdense unit=3 # ü\n"
                                     "\t      ^~~~\n");
    cr_assert_eq(diag_error_count(), 0, "warnings are not errors");
}

Test(diag, caret_after_utf8_text) {
    const SrcFile *f = file_of("input \"é.npy\" x\n");
    start_capture();
    note_at((Loc){f, 1, 15, 1}, "here");
    cr_assert_str_eq(stop_capture(), "m.cnn:1:15: note: here\n"
                                     "input \"é.npy\" x\n"
                                     "              ^\n");
}

Test(diag, last_line_without_newline) {
    const SrcFile *f = file_of("a\nflatten order=xyz");
    start_capture();
    error_at((Loc){f, 2, 15, 3}, "bad order");
    cr_assert_str_eq(stop_capture(), "m.cnn:2:15: error: bad order\n"
                                     "flatten order=xyz\n"
                                     "              ^~~\n");
}

/* A NUL byte is reported by the lexer as a bad byte; lines after it must
 * still be found and printed (the text is not a C string). */
Test(diag, source_line_after_a_nul_byte) {
    static const char text[] = "input 4\nrelu\0\nfoo\n";
    const SrcFile f = {.path = "m.cnn", .text = text, .len = sizeof text - 1};
    start_capture();
    error_at((Loc){&f, 3, 1, 3}, "unknown layer 'foo'");
    cr_assert_str_eq(stop_capture(), "m.cnn:3:1: error: unknown layer 'foo'\n"
                                     "foo\n"
                                     "^~~\n");
}

Test(diag, plain_error_has_no_location) {
    start_capture();
    error_plain("cannot read '%s': %s", "x.cnn", "No such file or directory");
    cr_assert_str_eq(stop_capture(), "cnnc: error: cannot read 'x.cnn': No such file or directory\n");
    cr_assert_eq(diag_error_count(), 1);
}

Test(util, closest_word_suggests_only_near_misses) {
    static const char *const attrs[] = {"filters", "kernel", "stride", "padding"};
    cr_assert_str_eq(closest_word("filter", attrs, 4), "filters");
    cr_assert_str_eq(closest_word("kernal", attrs, 4), "kernel");
    cr_assert_str_eq(closest_word("strides", attrs, 4), "stride");
    cr_assert_null(closest_word("units", attrs, 4));
}

/* Keras spells layers ReLU, Conv2D, ...: the lower-case keyword is the
 * suggestion however many letters differ in case only. */
Test(util, closest_word_ignores_case_first) {
    static const char *const heads[] = {"relu", "relu6", "conv2d", "dense", "linear"};
    cr_assert_str_eq(closest_word("ReLU", heads, 5), "relu");
    cr_assert_str_eq(closest_word("RELU6", heads, 5), "relu6");
    cr_assert_str_eq(closest_word("Conv2D", heads, 5), "conv2d");
}

Test(util, paths) {
    cr_assert_str_eq(path_dirname("a/b/m.cnn"), "a/b");
    cr_assert_str_eq(path_dirname("m.cnn"), ".");
    cr_assert_str_eq(path_dirname("/m.cnn"), "/");
    cr_assert_str_eq(path_join("a/b", "w.npy"), "a/b/w.npy");
    cr_assert_str_eq(path_join(".", "w.npy"), "w.npy");
    cr_assert_str_eq(path_join("a", "/abs/w.npy"), "/abs/w.npy");
    cr_assert_str_eq(path_stem("dir/mnist.v2.cnn"), "mnist.v2");
    cr_assert_str_eq(path_stem("lenet"), "lenet");
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fclose(f);
}

/* `cnnc m.cnn -o W` with a directory named W.h: the .c must not be left
 * behind once the .h cannot be put in place, and a W from an earlier run
 * must still be there. */
Test(util, rename_all_is_all_or_nothing) {
    char dir[] = "/tmp/cnnc_util_XXXXXX";
    cr_assert(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    touch("W.tmp1");
    touch("W.h.tmp1");
    cr_assert_eq(mkdir("W.h", 0700), 0);
    const char *tmps[] = {"W.tmp1", "W.h.tmp1"}, *paths[] = {"W", "W.h"};
    cr_assert_eq(rename_all(tmps, paths, 2), 1);
    cr_assert_neq(access("W", F_OK), 0, "the renamed .c was left behind");
    cr_assert_eq(access("W.h.tmp1", F_OK), 0, "the temporary that failed is the caller's to remove");
    remove("W.h.tmp1");
    rmdir("W.h");
    touch("X.tmp1");
    touch("X.h.tmp1");
    const char *tmps2[] = {"X.tmp1", "X.h.tmp1"}, *paths2[] = {"X", "X.h"};
    cr_assert_eq(rename_all(tmps2, paths2, 2), -1);
    cr_assert_eq(access("X", F_OK), 0);
    cr_assert_eq(access("X.h", F_OK), 0);
    remove("X");
    remove("X.h");
    /* Outputs of an earlier run: the one renamed before the failure is put
     * back as it was, and no backup is left behind. */
    FILE *f = fopen("Y", "w");
    cr_assert(f);
    fputs("old", f);
    fclose(f);
    touch("Y.tmp1");
    touch("Y.h.tmp1");
    cr_assert_eq(mkdir("Y.h", 0700), 0);
    const char *tmps3[] = {"Y.tmp1", "Y.h.tmp1"}, *paths3[] = {"Y", "Y.h"};
    cr_assert_eq(rename_all(tmps3, paths3, 2), 1);
    char text[8] = {0};
    f = fopen("Y", "r");
    cr_assert(f, "the earlier Y is gone");
    cr_assert_eq(fread(text, 1, sizeof text - 1, f), 3);
    fclose(f);
    cr_assert_str_eq(text, "old");
    cr_assert_neq(access("Y.tmp1.old", F_OK), 0, "backup left behind");
    remove("Y");
    remove("Y.h.tmp1");
    rmdir("Y.h");
    cr_assert_eq(chdir("/"), 0);
    cr_assert_eq(rmdir(dir), 0);
}

/* `cnnc m.cnn -o m.cnn` must not overwrite the model with C. */
Test(util, same_file_sees_through_paths) {
    char dir[] = "/tmp/cnnc_util_XXXXXX";
    cr_assert(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    touch("m.cnn");
    cr_assert(same_file("m.cnn", "./m.cnn"));
    cr_assert(same_file("m.cnn", arena_printf("%s/m.cnn", dir)));
    cr_assert(!same_file("m.cnn", "m.c"), "a file that does not exist is no other file");
    touch("m.c");
    cr_assert(!same_file("m.cnn", "m.c"));
    remove("m.cnn");
    remove("m.c");
    cr_assert_eq(chdir("/"), 0);
    cr_assert_eq(rmdir(dir), 0);
}

Test(util, vec_grows_and_keeps_items) {
    VEC(int) v = {0};
    for (int i = 0; i < 1000; i++)
        vec_push(&v, i * 3);
    cr_assert_eq(v.len, 1000);
    cr_assert_eq(v.items[0], 0);
    cr_assert_eq(v.items[999], 2997);
}

Test(shape, printer_and_counts) {
    cr_assert_str_eq(shape_str(shape_image(28, 28, 1)), "28x28x1");
    cr_assert_str_eq(shape_str(shape_vector(10)), "10");
    cr_assert_eq(shape_count(shape_image(26, 26, 32)), 21632);
}
