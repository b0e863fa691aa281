/* ast.c — source files, the builders the grammar calls, and two dumps.
 *
 * parse_program runs the flex scanner (grammar/lexer.l) under the bison
 * parser (grammar/parser.y).  The parser's actions call the ast_* builders
 * below: they copy token values into the arena and link statements in
 * source order.  The scanner reads a copy of the text that always ends in a
 * newline, so the last statement needs no special case; offsets into that
 * copy are offsets into the file.  A statement parsed after any syntax error
 * is marked, so check.c can skip its shape checks. */
#include "parser.h"

#include "lexer.h"

#include <string.h>

SrcFile *srcfile_load(const char *path) {
    size_t len;
    char *text = read_whole_file(path, &len);
    if (!text)
        return NULL;
    SrcFile *f = arena_alloc(sizeof *f);
    *f = (SrcFile){.path = path, .text = text, .len = len};
    return f;
}

SrcFile *srcfile_from_string(const char *path, const char *text) {
    SrcFile *f = arena_alloc(sizeof *f);
    *f = (SrcFile){.path = path, .text = text, .len = strlen(text)};
    return f;
}

/* ---------------------------------------------------------------- builders */

Value *ast_value(const Value *token) {
    Value *v = arena_alloc(sizeof *v);
    *v = *token;
    return v;
}

void ast_list_number(ParseState *ps, const Value *number) { vec_push(&ps->numbers, number->num); }

/* The list's spelling is its source text when it fits on one line. */
static const char *list_text(const ParseState *ps, Span open, Span close) {
    if (open.loc.line != close.loc.line)
        return "[...]";
    return arena_strndup(ps->file->text + open.offset, close.offset + 1 - open.offset);
}

/* Takes the numbers read since the '[' (ps->numbers), which starts empty
 * again for the next list. */
Value *ast_list(ParseState *ps, Span open, Span close) {
    Value *v = arena_alloc(sizeof *v);
    *v = (Value){.kind = VAL_LIST, .loc = open.loc, .text = list_text(ps, open, close)};
    if (open.loc.line == close.loc.line)
        v->loc.len = close.loc.col + 1 - open.loc.col;
    v->nitems = ps->numbers.len;
    v->items = arena_alloc(sizeof(double) * (size_t)(v->nitems ? v->nitems : 1));
    if (v->nitems)
        memcpy(v->items, ps->numbers.items, sizeof(double) * (size_t)v->nitems);
    ps->numbers.len = 0;
    return v;
}

ValueVec *ast_args(void) { return arena_alloc(sizeof(ValueVec)); }

ValueVec *ast_args_push(ValueVec *args, const Value *v) {
    vec_push(args, *v);
    return args;
}

Attr *ast_attr(const Value *name, const Value *val) {
    Attr *a = arena_alloc(sizeof *a);
    *a = (Attr){.name = name->str, .loc = name->loc, .val = *val};
    return a;
}

Attr *ast_attrs_append(Attr *attrs, Attr *a) {
    Attr *last = attrs;
    while (last->next)
        last = last->next;
    last->next = a;
    return attrs;
}

Stmt *ast_stmt(const Value *head, const ValueVec *args, Attr *attrs) {
    Stmt *s = arena_alloc(sizeof *s);
    *s = (Stmt){.loc = head->loc, .head = head->str, .head_loc = head->loc, .attrs = attrs};
    s->nargs = args->len;
    s->args = args->items;
    return s;
}

Stmt *ast_labeled(Stmt *s, const Value *label) {
    s->label = label->str;
    s->label_loc = label->loc;
    s->loc = label->loc;
    return s;
}

void ast_add_stmt(ParseState *ps, Stmt *s) {
    s->after_syntax_error = ps->errors > 0;
    *ps->tail = s;
    ps->tail = &s->next;
}

/* The parser has skipped to the end of a bad statement. */
void ast_recovered(ParseState *ps) {
    ps->recovering = false;
    ps->numbers.len = 0;
}

/* One report per bad statement; later ones in it are consequences. */
void ast_error(ParseState *ps, Loc loc, const char *msg) {
    if (ps->recovering)
        return;
    error_at(loc, "%s", msg);
    ps->errors++;
    ps->recovering = true;
}

/* ----------------------------------------------------------------- parsing */

static ParseState new_state(const SrcFile *file, Program *prog) {
    return (ParseState){.file = file, .line = 1, .col = 1, .last_token = TOK_NEWLINE, .prog = prog,
                        .tail = prog ? &prog->stmts : NULL};
}

static yyscan_t open_scanner(ParseState *ps) {
    yyscan_t scanner;
    if (yylex_init_extra(ps, &scanner))
        die("cannot start the scanner");
    const SrcFile *f = ps->file;
    if (f->len && f->text[f->len - 1] == '\n') {
        yy_scan_bytes(f->text, (int)f->len, scanner);
    } else {
        char *copy = arena_alloc(f->len + 1);
        memcpy(copy, f->text, f->len);
        copy[f->len] = '\n';
        yy_scan_bytes(copy, (int)f->len + 1, scanner);
    }
    return scanner;
}

Program *parse_program(const SrcFile *file) {
    Program *prog = arena_alloc(sizeof *prog);
    prog->file = file;
    ParseState ps = new_state(file, prog);
    yyscan_t scanner = open_scanner(&ps);
    yyparse(scanner, &ps);
    yylex_destroy(scanner);
    prog->syntax_errors = ps.errors;
    return prog;
}

/* ------------------------------------------------------------------- dumps */

static const char *token_kind_name(int token) {
    switch (token) {
    case TOK_IDENT: return "IDENT";
    case TOK_NAME: return "NAME";
    case TOK_NUMBER: return "NUMBER";
    case TOK_SHAPE: return "SHAPE";
    case TOK_STRING: return "STRING";
    case TOK_NEWLINE: return "NEWLINE";
    case ':': return "COLON";
    case '=': return "EQUALS";
    case '[': return "LBRACKET";
    case ']': return "RBRACKET";
    case ',': return "COMMA";
    default: return "ERROR";
    }
}

/* `LINE:COL KIND text`, one token per line; lexical errors are reported as
 * they are met, and shown as ERROR. */
void dump_tokens(const SrcFile *file, FILE *out) {
    ParseState ps = new_state(file, NULL);
    yyscan_t scanner = open_scanner(&ps);
    YYSTYPE val;
    YYLTYPE at;
    int token;
    while ((token = yylex(&val, &at, scanner)) != TOK_YYEOF) {
        fprintf(out, "%d:%d %s", at.loc.line, at.loc.col, token_kind_name(token));
        if (token == TOK_NEWLINE)
            ps.recovering = false;
        else
            fprintf(out, " %.*s", at.nbytes, file->text + at.offset);
        fputc('\n', out);
    }
    yylex_destroy(scanner);
}

/* %g, but a number not written as an integer keeps a decimal point. */
static void print_number(double num, bool is_int, FILE *out) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", num);
    fprintf(out, "%s%s", buf, !is_int && !strpbrk(buf, ".eni") ? ".0" : "");
}

static void print_string(const char *s, FILE *out) {
    fputc('"', out);
    for (; *s; s++)
        fprintf(out, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
    fputc('"', out);
}

enum { LIST_PREVIEW = 6 };

static void print_value(const Value *v, FILE *out) {
    switch (v->kind) {
    case VAL_NUMBER: print_number(v->num, v->is_int, out); break;
    case VAL_STRING: print_string(v->str, out); break;
    case VAL_IDENT: fputs(v->str, out); break;
    case VAL_SHAPE:
        for (int i = 0; i < v->ndims; i++)
            fprintf(out, i ? "x%d" : "%d", v->dims[i]);
        break;
    case VAL_LIST:
        fprintf(out, "list(%d)[", v->nitems);
        for (int i = 0; i < v->nitems && i < LIST_PREVIEW; i++) {
            fputs(i ? " " : "", out);
            print_number(v->items[i], true, out);
        }
        fputs(v->nitems > LIST_PREVIEW ? " ...]" : "]", out);
        break;
    }
}

/* `LINE:COL [label:] head args name=value...`, one statement per line. */
static void dump_stmt(const Stmt *s, FILE *out) {
    fprintf(out, "%d:%d ", s->loc.line, s->loc.col);
    if (s->label)
        fprintf(out, "%s: ", s->label);
    fputs(s->head, out);
    for (int i = 0; i < s->nargs; i++) {
        fputc(' ', out);
        print_value(&s->args[i], out);
    }
    for (const Attr *a = s->attrs; a; a = a->next) {
        fprintf(out, " %s=", a->name);
        print_value(&a->val, out);
    }
    fputs(s->after_syntax_error ? "  # after a syntax error\n" : "\n", out);
}

void dump_ast(const Program *prog, FILE *out) {
    for (const Stmt *s = prog->stmts; s; s = s->next)
        dump_stmt(s, out);
    if (prog->syntax_errors)
        fprintf(out, "# %d syntax error%s\n", prog->syntax_errors, prog->syntax_errors == 1 ? "" : "s");
}
