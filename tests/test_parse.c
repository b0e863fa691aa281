/* test_parse.c — the .cnn front end: lexical forms, statements, locations,
 * the dumps, and syntax errors with their exact text, line and column.
 *
 * Each test parses a string (srcfile_from_string) with diagnostics captured
 * in a memory stream, then asserts the values the parser built. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnc.h"

static char *diag_text;
static size_t diag_size;
static FILE *diag_stream;

static void capture_diag(void) {
    diag_reset();
    diag_stream = open_memstream(&diag_text, &diag_size);
    diag_set_stream(diag_stream);
}

static void release_diag(void) {
    diag_set_stream(NULL);
    fclose(diag_stream);
    free(diag_text);
    arena_free_all();
}

TestSuite(parse, .init = capture_diag, .fini = release_diag);

static const char *diag_output(void) {
    fflush(diag_stream);
    return diag_text;
}

static Program *parse(const char *text) { return parse_program(srcfile_from_string("t.cnn", text)); }

/* A program that must parse cleanly. */
static Program *parse_ok(const char *text) {
    Program *p = parse(text);
    cr_assert_eq(p->syntax_errors, 0, "unexpected errors:\n%s", diag_output());
    cr_assert_str_empty(diag_output());
    return p;
}

static int count_stmts(const Program *p) {
    int n = 0;
    for (const Stmt *s = p->stmts; s; s = s->next)
        n++;
    return n;
}

static const Stmt *nth_stmt(const Program *p, int n) {
    const Stmt *s = p->stmts;
    while (s && n--)
        s = s->next;
    cr_assert_not_null(s);
    return s;
}

static const Attr *find_attr(const Stmt *s, const char *name) {
    for (const Attr *a = s->attrs; a; a = a->next)
        if (!strcmp(a->name, name))
            return a;
    cr_assert_fail("no attribute '%s' on '%s'", name, s->head);
    return NULL;
}

static const Value *attr_val(const Stmt *s, const char *name) { return &find_attr(s, name)->val; }

static void assert_loc(Loc loc, int line, int col, int len) {
    cr_assert_eq(loc.line, line, "line %d, expected %d", loc.line, line);
    cr_assert_eq(loc.col, col, "col %d, expected %d", loc.col, col);
    cr_assert_eq(loc.len, len, "len %d, expected %d", loc.len, len);
}

static void assert_number(const Value *v, double num, bool is_int) {
    cr_assert_eq(v->kind, VAL_NUMBER, "'%s' is not a number", v->text);
    cr_assert_float_eq(v->num, num, 1e-12 * fmax(1, fabs(num)), "'%s' is %g, expected %g", v->text, v->num, num);
    cr_assert_eq(v->is_int, is_int, "'%s' is_int", v->text);
}

static void assert_items(const Value *v, const double *items, int n) {
    cr_assert_eq(v->kind, VAL_LIST);
    cr_assert_eq(v->nitems, n, "%d items, expected %d", v->nitems, n);
    for (int i = 0; i < n; i++)
        cr_assert_float_eq(v->items[i], items[i], 1e-12, "item %d is %g, expected %g", i, v->items[i], items[i]);
}

/* ------------------------------------------------------------- statements */

Test(parse, mnist_statements) {
    Program *p = parse_ok("# mnist\n"
                          "model mnist\n"
                          "input 28x28x1   # h x w x c\n"
                          "weights \"mnist.safetensors\" layout=keras\n"
                          "\n"
                          "conv1: conv2d filters=32 kernel=3 activation=relu\n"
                          "       maxpool size=2\n");
    cr_assert_eq(count_stmts(p), 5);
    const Stmt *model = nth_stmt(p, 0), *input = nth_stmt(p, 1), *weights = nth_stmt(p, 2);
    cr_assert_str_eq(model->head, "model");
    cr_assert_eq(model->nargs, 1);
    cr_assert_eq(model->args[0].kind, VAL_IDENT);
    cr_assert_str_eq(model->args[0].str, "mnist");
    assert_loc(model->loc, 2, 1, 5);
    cr_assert_eq(input->args[0].kind, VAL_SHAPE);
    cr_assert_eq(input->args[0].ndims, 3);
    cr_assert_eq(input->args[0].dims[0], 28);
    cr_assert_eq(input->args[0].dims[2], 1);
    assert_loc(input->args[0].loc, 3, 7, 7);
    cr_assert_str_eq(weights->args[0].str, "mnist.safetensors");
    cr_assert_str_eq(attr_val(weights, "layout")->str, "keras");
    cr_assert_null(weights->label);
}

Test(parse, labels_heads_and_attrs) {
    Program *p = parse_ok("conv1: conv2d filters=32 kernel=3x3 activation=relu\n"
                          "       maxpool size=2\n");
    const Stmt *conv = nth_stmt(p, 0), *pool = nth_stmt(p, 1);
    cr_assert_str_eq(conv->label, "conv1");
    assert_loc(conv->label_loc, 1, 1, 5);
    cr_assert_str_eq(conv->head, "conv2d");
    assert_loc(conv->head_loc, 1, 8, 6);
    assert_loc(conv->loc, 1, 1, 5);
    cr_assert_eq(conv->nargs, 0);
    const char *names[] = {"filters", "kernel", "activation"};
    const Attr *a = conv->attrs;
    for (int i = 0; i < 3; i++, a = a->next)
        cr_assert_str_eq(a->name, names[i]);
    cr_assert_null(a);
    assert_loc(find_attr(conv, "kernel")->loc, 1, 26, 6);
    assert_number(attr_val(conv, "filters"), 32, true);
    assert_loc(attr_val(conv, "filters")->loc, 1, 23, 2);
    cr_assert_null(pool->label);
    assert_loc(pool->loc, 2, 8, 7);
    cr_assert_eq(pool->next, NULL);
}

Test(parse, dotted_labels) {
    Program *p = parse_ok("features.0: conv2d filters=8 kernel=3\n"
                          "model.layer2.0b: relu\n"
                          "a.b : relu\n");
    cr_assert_str_eq(nth_stmt(p, 0)->label, "features.0");
    assert_loc(nth_stmt(p, 0)->label_loc, 1, 1, 10);
    cr_assert_str_eq(nth_stmt(p, 1)->label, "model.layer2.0b");
    cr_assert_str_eq(nth_stmt(p, 1)->head, "relu");
    cr_assert_str_eq(nth_stmt(p, 2)->label, "a.b");
}

Test(parse, args_then_attrs_with_blanks_around_equals) {
    Program *p = parse_ok("input 10 order = chw\n");
    const Stmt *s = p->stmts;
    assert_number(&s->args[0], 10, true);
    cr_assert_str_eq(attr_val(s, "order")->str, "chw");
}

/* ---------------------------------------------------------------- numbers */

Test(parse, numbers_signs_decimals_exponents) {
    Program *p = parse_ok("n a=-1 b=+2 c=.5 d=0.5 e=1e-3 f=1E-3 g=1e+3 h=5. i=-.25 j=007 k=2.5e2\n");
    const Stmt *s = p->stmts;
    assert_number(attr_val(s, "a"), -1, true);
    assert_number(attr_val(s, "b"), 2, true);
    assert_number(attr_val(s, "c"), 0.5, false);
    assert_number(attr_val(s, "d"), 0.5, false);
    assert_number(attr_val(s, "e"), 1e-3, false);
    assert_number(attr_val(s, "f"), 1e-3, false);
    assert_number(attr_val(s, "g"), 1000, false);
    assert_number(attr_val(s, "h"), 5, false);
    assert_number(attr_val(s, "i"), -0.25, false);
    assert_number(attr_val(s, "j"), 7, true);
    assert_number(attr_val(s, "k"), 250, false);
    cr_assert_str_eq(attr_val(s, "e")->text, "1e-3");
    cr_assert_str_eq(attr_val(s, "h")->text, "5.");
}

Test(parse, ratios) {
    Program *p = parse_ok("rescale scale=1/255 a=-2/16 b=+1/4 c=1.5/0.5 d=1/2e1\n");
    const Stmt *s = p->stmts;
    assert_number(attr_val(s, "scale"), 1.0 / 255, false);
    cr_assert_str_eq(attr_val(s, "scale")->text, "1/255");
    assert_loc(attr_val(s, "scale")->loc, 1, 15, 5);
    assert_number(attr_val(s, "a"), -0.125, false);
    assert_number(attr_val(s, "b"), 0.25, false);
    assert_number(attr_val(s, "c"), 3, false);
    assert_number(attr_val(s, "d"), 0.05, false);
}

Test(parse, shapes) {
    Program *p = parse_ok("conv2d kernel=3x5 stride=1x1 input=1x2x3x4x5x6x7x8\n");
    const Value *k = attr_val(p->stmts, "kernel"), *big = attr_val(p->stmts, "input");
    cr_assert_eq(k->kind, VAL_SHAPE);
    cr_assert_eq(k->ndims, 2);
    cr_assert_eq(k->dims[0], 3);
    cr_assert_eq(k->dims[1], 5);
    cr_assert_str_eq(k->text, "3x5");
    cr_assert_eq(big->ndims, 8);
    cr_assert_eq(big->dims[7], 8);
}

/* ---------------------------------------------------------------- strings */

Test(parse, strings_with_escapes) {
    Program *p = parse_ok("weights \"dir/a \\\"b\\\" \\\\c.npz\" x=\"\"\n");
    const Value *v = &p->stmts->args[0];
    cr_assert_eq(v->kind, VAL_STRING);
    cr_assert_str_eq(v->str, "dir/a \"b\" \\c.npz");
    cr_assert_str_eq(v->text, "\"dir/a \\\"b\\\" \\\\c.npz\"");
    assert_loc(v->loc, 1, 9, 21);
    cr_assert_str_eq(attr_val(p->stmts, "x")->str, "");
}

Test(parse, utf8_counts_characters) {
    Program *p = parse_ok("# größe — ünits\n"
                          "weights \"größe.npz\" layout=torch  # ü\n");
    const Stmt *s = p->stmts;
    cr_assert_str_eq(s->args[0].str, "größe.npz");
    assert_loc(s->args[0].loc, 2, 9, 11);
    assert_loc(find_attr(s, "layout")->loc, 2, 21, 6);
}

/* ------------------------------------------------------------------ lists */

Test(parse, nested_multiline_list_with_commas_and_blanks) {
    Program *p = parse_ok("conv2d filters=1 kernel=3 weights=[   # rows\n"
                          "    [0, 1, 0],\n"
                          "    [1 -4 1]  # middle\n"
                          "    [0,1 , 0,],\n"
                          "] bias=[0.5]\n"
                          "relu\n");
    const double expect[] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
    const Value *w = attr_val(p->stmts, "weights");
    assert_items(w, expect, 9);
    assert_loc(w->loc, 1, 35, 1);
    cr_assert_str_eq(w->text, "[...]");
    assert_items(attr_val(p->stmts, "bias"), (double[]){0.5}, 1);
    cr_assert_eq(count_stmts(p), 2);
}

Test(parse, one_line_list_has_its_spelling) {
    Program *p = parse_ok("conv2d padding=[1, 1,2 ,2]\n");
    const Value *v = attr_val(p->stmts, "padding");
    assert_items(v, (double[]){1, 1, 2, 2}, 4);
    cr_assert_str_eq(v->text, "[1, 1,2 ,2]");
    assert_loc(v->loc, 1, 16, 11);
}

Test(parse, trailing_comma_empty_list_ratios_in_lists) {
    Program *p = parse_ok("normalize mean=[1/2, 1e1,] std=[] x=[[]] y=[[1][2]]\n");
    const Stmt *s = p->stmts;
    assert_items(attr_val(s, "mean"), (double[]){0.5, 10}, 2);
    cr_assert_eq(attr_val(s, "std")->nitems, 0);
    cr_assert_eq(attr_val(s, "std")->kind, VAL_LIST);
    cr_assert_eq(attr_val(s, "x")->nitems, 0);
    assert_items(attr_val(s, "y"), (double[]){1, 2}, 2);
}

Test(parse, list_as_argument) {
    Program *p = parse_ok("scale [1 2 3] 4\n");
    cr_assert_eq(p->stmts->nargs, 2);
    assert_items(&p->stmts->args[0], (double[]){1, 2, 3}, 3);
    assert_number(&p->stmts->args[1], 4, true);
}

/* ------------------------------------------------- lines and continuations */

Test(parse, continuation_with_trailing_comment) {
    Program *p = parse_ok("conv2d filters=8 \\   # more below\n"
                          "       kernel=3 \\\n"
                          "       activation=relu\n"
                          "relu\n");
    cr_assert_eq(count_stmts(p), 2);
    assert_number(attr_val(p->stmts, "kernel"), 3, true);
    assert_loc(find_attr(p->stmts, "activation")->loc, 3, 8, 10);
    cr_assert_str_eq(nth_stmt(p, 1)->head, "relu");
}

Test(parse, continuation_onto_blank_line_ends_statement) {
    Program *p = parse_ok("dense units=10 \\\n"
                          "\n"
                          "relu\n"
                          "sigmoid \\\n"
                          "   # only a comment\n"
                          "tanh \\");
    cr_assert_eq(count_stmts(p), 4);
    cr_assert_eq(nth_stmt(p, 0)->attrs->next, NULL);
    cr_assert_str_eq(nth_stmt(p, 1)->head, "relu");
    assert_loc(nth_stmt(p, 1)->loc, 3, 1, 4);
    cr_assert_str_eq(nth_stmt(p, 3)->head, "tanh");
}

Test(parse, crlf_file_without_final_newline) {
    Program *p = parse_ok("model m\r\n"
                          "input 4   # c\r\n"
                          "\r\n"
                          "conv2d weights=[1,\r\n 2] a=b\r\n"
                          "dense units=3");
    cr_assert_eq(count_stmts(p), 4);
    cr_assert_str_eq(nth_stmt(p, 0)->args[0].str, "m");
    assert_items(attr_val(nth_stmt(p, 2), "weights"), (double[]){1, 2}, 2);
    cr_assert_str_eq(attr_val(nth_stmt(p, 2), "a")->str, "b");
    assert_number(attr_val(nth_stmt(p, 3), "units"), 3, true);
    assert_loc(attr_val(nth_stmt(p, 3), "units")->loc, 6, 13, 1);
}

Test(parse, byte_order_mark_is_blank) {
    Program *p = parse_ok("\xEF\xBB\xBFmodel m\n");
    cr_assert_str_eq(p->stmts->head, "model");
    assert_loc(p->stmts->loc, 1, 2, 5);
}

Test(parse, empty_and_comment_only_files) {
    cr_assert_null(parse_ok("")->stmts);
    cr_assert_null(parse_ok("# nothing\n\n   \n")->stmts);
    cr_assert_null(parse_ok("# no newline")->stmts);
}

/* ----------------------------------------------------------------- errors */

Test(parse, error_message_with_caret) {
    Program *p = parse("conv2d filters=32 kernel=3 relu\n");
    cr_assert_eq(p->syntax_errors, 1);
    cr_assert_null(p->stmts);
    cr_assert_str_eq(diag_output(), "t.cnn:1:32: error: unexpected end of line, expected '='\n"
                                    "conv2d filters=32 kernel=3 relu\n"
                                    "                               ^\n");
    cr_assert_eq(diag_error_count(), 1);
}

/* Each case: source, then the first line of the one message it gives. */
static const char *const error_cases[][2] = {
    {"dense units=10 weights=[1,,2]\n", "t.cnn:1:27: error: unexpected ',', expected a number or ']'"},
    {"t a=[1 2 relu]\n", "t.cnn:1:10: error: unexpected 'relu', expected a number, ']' or ','"},
    {"conv2d = 3\n", "t.cnn:1:8: error: unexpected '=', expected a value, ':' or end of line"},
    {"conv2d filters=3 5\n", "t.cnn:1:18: error: unexpected '5', expected an identifier or end of line"},
    {"conv2d filters=\n", "t.cnn:1:16: error: unexpected end of line, expected a value"},
    {"5 conv\n", "t.cnn:1:1: error: unexpected '5', expected a statement"},
    {"conv1:\n", "t.cnn:1:7: error: unexpected end of line, expected an identifier"},
    {"a: b: c\n", "t.cnn:1:5: error: unexpected ':', expected a value or end of line"},
    {"w x=\"a.npz\" \"b\"\n", "t.cnn:1:13: error: unexpected \"b\", expected an identifier or end of line"},
    {"x: y a=1/0\n", "t.cnn:1:8: error: ratio '1/0' divides by zero"},
    {"x a=-3/0.0e5\n", "t.cnn:1:5: error: ratio '-3/0.0e5' divides by zero"},
    {"w \"a\\nb\"\n", "t.cnn:1:5: error: unknown escape '\\n' in string: only \\\" and \\\\ are escapes (write '/' in paths)"},
    {"w \"é\\é\"\n", "t.cnn:1:5: error: unknown escape '\\é' in string: only \\\" and \\\\ are escapes (write '/' in paths)"},
    {"s \"abc\n", "t.cnn:1:3: error: unterminated string (a string ends on the line it starts)"},
    {"s \"abc\\\"\n", "t.cnn:1:3: error: unterminated string (a string ends on the line it starts)"},
    {"q @ 3\n", "t.cnn:1:3: error: unexpected character '@'"},
    {"q é\n", "t.cnn:1:3: error: unexpected character 'é'"},
    {"q \x01\n", "t.cnn:1:3: error: unexpected byte 0x01"},
    {"k 1.2.3\n", "t.cnn:1:3: error: malformed number '1.2.3'"},
    {"k 3abc\n", "t.cnn:1:3: error: malformed number '3abc'"},
    {"k 1-2\n", "t.cnn:1:3: error: malformed number '1-2'"},
    {"k 1e5x2\n", "t.cnn:1:3: error: malformed number '1e5x2'"},
    {"k [,1]\n", "t.cnn:1:4: error: unexpected ',', expected a number or ']'"},
    {"k 1e999\n", "t.cnn:1:3: error: number '1e999' is out of range"},
    {"k 1x2x3x4x5x6x7x8x9\n", "t.cnn:1:3: error: shape '1x2x3x4x5x6x7x8x9' has more than 8 dimensions"},
    {"k 99999999999x2\n", "t.cnn:1:3: error: dimension too large in shape '99999999999x2'"},
    {"u \\ v\n", "t.cnn:1:3: error: '\\' continues a statement only as the last thing on a line"},
    {"x ]\n", "t.cnn:1:3: error: unexpected ']', expected a value, ':' or end of line"},
    {"x [1 2\n", "t.cnn:1:3: error: missing ']' to close this list"},
    {"x [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     "t.cnn:1:35: error: lists nested more than 32 deep"},
};

Test(parse, error_messages) {
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        fflush(diag_stream);
        size_t before = diag_size;
        Program *p = parse(error_cases[i][0]);
        cr_assert_eq(p->syntax_errors, 1, "case %zu: %d errors", i, p->syntax_errors);
        cr_assert_null(p->stmts, "case %zu kept its statement", i);
        const char *out = diag_output() + before;
        size_t want = strlen(error_cases[i][1]);
        cr_assert(strncmp(out, error_cases[i][1], want) == 0 && out[want] == '\n', "case %zu:\n got: %s\nwant: %s\n", i,
                  out, error_cases[i][1]);
    }
}

Test(parse, error_columns_after_utf8) {
    parse("weights \"ü.npz\" = 1\n");
    cr_assert_str_eq(diag_output(), "t.cnn:1:17: error: unexpected '=', expected a value or end of line\n"
                                    "weights \"ü.npz\" = 1\n"
                                    "                ^\n");
}

Test(parse, every_bad_line_reported_and_later_statements_marked) {
    Program *p = parse("input 8x8x1\n"
                       "conv2d filters=8 kernel=3 @\n"
                       "relu\n"
                       "dense units=\n"
                       "x: softmax\n");
    cr_assert_eq(p->syntax_errors, 2);
    cr_assert_eq(diag_error_count(), 2);
    cr_assert_eq(count_stmts(p), 3);
    cr_assert_not(nth_stmt(p, 0)->after_syntax_error);
    cr_assert_str_eq(nth_stmt(p, 1)->head, "relu");
    cr_assert(nth_stmt(p, 1)->after_syntax_error);
    cr_assert_str_eq(nth_stmt(p, 2)->label, "x");
    cr_assert(nth_stmt(p, 2)->after_syntax_error);
    const char *out = diag_output();
    cr_assert_not_null(strstr(out, "t.cnn:2:27: error: unexpected character '@'\n"));
    cr_assert_not_null(strstr(out, "t.cnn:4:13: error: unexpected end of line, expected a value\n"));
}

Test(parse, one_report_per_bad_statement) {
    Program *p = parse("q @ # $ ` \\ x\n"
                       "conv2d a=\\\n"
                       "   @ b=[1,,2]\n"
                       "relu\n");
    cr_assert_eq(p->syntax_errors, 2);
    cr_assert_eq(count_stmts(p), 1);
    cr_assert_not_null(strstr(diag_output(), "t.cnn:3:4: error: unexpected character '@'\n"));
}

Test(parse, unclosed_list_resumes_at_next_statement) {
    Program *p = parse("conv2d weights=[1 2\n"
                       "   3 4\n"
                       "fc1: dense units=3\n"
                       "relu\n");
    cr_assert_eq(p->syntax_errors, 1);
    cr_assert_eq(count_stmts(p), 2);
    cr_assert_str_eq(p->stmts->label, "fc1");
    assert_loc(p->stmts->loc, 3, 1, 3);
    cr_assert(p->stmts->after_syntax_error);
    cr_assert_str_eq(diag_output(), "t.cnn:1:16: error: missing ']' to close this list\n"
                                    "conv2d weights=[1 2\n"
                                    "               ^\n");
}

Test(parse, error_in_crlf_file_points_before_cr) {
    parse("conv2d filters=\r\nrelu\r\n");
    cr_assert_str_eq(diag_output(), "t.cnn:1:16: error: unexpected end of line, expected a value\n"
                                    "conv2d filters=\n"
                                    "               ^\n");
}

/* A statement continued past the last line ends at the end of the file:
 * the caret goes after the '\' on that line, not on an empty line after it. */
Test(parse, continuation_at_end_of_file_points_after_the_backslash) {
    parse("input 4\ndense units= \\\n");
    cr_assert_str_eq(diag_output(), "t.cnn:2:15: error: unexpected end of file, expected a value\n"
                                    "dense units= \\\n"
                                    "              ^\n");
}

/* Columns count characters: the caret follows the comment's 'é'. */
Test(parse, continuation_at_end_of_crlf_file_without_newline) {
    parse("input 4\r\ndense units= \\ # \xC3\xA9");
    cr_assert_str_eq(diag_output(), "t.cnn:2:19: error: unexpected end of file, expected a value\n"
                                    "dense units= \\ # \xC3\xA9\n"
                                    "                  ^\n");
}

/* ------------------------------------------------------------------ dumps */

static char *dump_to_string(void (*dump)(const void *, FILE *), const void *arg) {
    char *text;
    size_t size;
    FILE *f = open_memstream(&text, &size);
    dump(arg, f);
    fclose(f);
    char *copy = arena_strdup(text);
    free(text);
    return copy;
}

static void dump_tokens_of(const void *src, FILE *out) { dump_tokens(src, out); }
static void dump_ast_of(const void *prog, FILE *out) { dump_ast(prog, out); }

Test(parse, dump_tokens) {
    const SrcFile *f = srcfile_from_string("t.cnn", "c1: conv2d k=3x3 w=[1, -2.5] \\\n  s=\"a\" # c\nfeatures.0: x 1/2");
    cr_assert_str_eq(dump_to_string(dump_tokens_of, f), "1:1 IDENT c1\n"
                                                         "1:3 COLON :\n"
                                                         "1:5 IDENT conv2d\n"
                                                         "1:12 IDENT k\n"
                                                         "1:13 EQUALS =\n"
                                                         "1:14 SHAPE 3x3\n"
                                                         "1:18 IDENT w\n"
                                                         "1:19 EQUALS =\n"
                                                         "1:20 LBRACKET [\n"
                                                         "1:21 NUMBER 1\n"
                                                         "1:22 COMMA ,\n"
                                                         "1:24 NUMBER -2.5\n"
                                                         "1:28 RBRACKET ]\n"
                                                         "2:3 IDENT s\n"
                                                         "2:4 EQUALS =\n"
                                                         "2:5 STRING \"a\"\n"
                                                         "2:12 NEWLINE\n"
                                                         "3:1 NAME features.0\n"
                                                         "3:11 COLON :\n"
                                                         "3:13 IDENT x\n"
                                                         "3:15 NUMBER 1/2\n"
                                                         "3:18 NEWLINE\n");
}

Test(parse, dump_ast) {
    Program *p = parse("conv1: conv2d 3x3 \"a\\\\b\" k=5. r=1/4 w=[1 2 3 4 5 6 7 8] e=[] o=relu\n"
                       "bad =\n"
                       "relu\n");
    cr_assert_str_eq(dump_to_string(dump_ast_of, p),
                     "1:1 conv1: conv2d 3x3 \"a\\\\b\" k=5.0 r=0.25 w=list(8)[1 2 3 4 5 6 ...] e=list(0)[] o=relu\n"
                     "3:1 relu  # after a syntax error\n"
                     "# 1 syntax error\n");
}
