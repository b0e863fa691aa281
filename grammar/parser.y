/* parser.y — the .cnn grammar.
 *
 * A program is a sequence of lines; a statement is
 *
 *     [label ':'] head value* (name '=' value)*  NEWLINE
 *
 * The grammar knows no keywords: `model`, `input`, `weights` and the layer
 * ops are all heads, and check.c gives them meaning.  Actions are one-line
 * calls to the builders in ast.c.  A syntax error drops its statement:
 * `error NEWLINE` resynchronizes at the end of the line and parsing goes on,
 * so every bad line is reported in one run.  Messages name the unexpected
 * token and what could have come instead ("unexpected ']', expected a
 * number"); token aliases are written as those phrases. */
%define api.pure full
%define api.location.type {Span}
%define api.token.prefix {TOK_}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {ParseState *ps}

%code requires {
#include "cnnc.h"

/* A token's place: the Loc messages use, and its bytes in the source. */
typedef struct Span {
    Loc loc;
    size_t offset;
    int nbytes;
} Span;

typedef VEC(Value) ValueVec;

/* What the scanner, the parser and the builders share for one file. */
typedef struct ParseState {
    const SrcFile *file;
    int line, col;          /* where the next character is */
    size_t offset;
    int depth;              /* '[' nesting */
    Span list_open;         /* the outermost open '[' */
    bool pending_newline;   /* end the statement before the next token */
    bool recovering;        /* an error is reported; quiet until resynced */
    int last_token;
    int last_line;          /* line of the last token returned */
    int errors;
    VEC(double) numbers;    /* items of the list being read */
    Program *prog;
    Stmt **tail;            /* where the next statement is linked */
} ParseState;

/* A nonterminal starts where its first symbol does. */
#define YYLLOC_DEFAULT(Cur, Rhs, N) ((Cur) = (N) ? (Rhs)[1] : (Rhs)[0])
}

%code provides {
int yylex(YYSTYPE *yylval, YYLTYPE *yylloc, void *scanner);

/* ast.c: the builders the actions call. */
Value *ast_value(const Value *token);
void ast_list_number(ParseState *ps, const Value *number);
Value *ast_list(ParseState *ps, Span open, Span close);
ValueVec *ast_args(void);
ValueVec *ast_args_push(ValueVec *args, const Value *v);
Attr *ast_attr(const Value *name, const Value *val);
Attr *ast_attrs_append(Attr *attrs, Attr *a);
Stmt *ast_stmt(const Value *head, const ValueVec *args, Attr *attrs);
Stmt *ast_labeled(Stmt *s, const Value *label);
void ast_add_stmt(ParseState *ps, Stmt *s);
void ast_recovered(ParseState *ps);
void ast_error(ParseState *ps, Loc loc, const char *msg);
}

%code {
static void yyerror(const YYLTYPE *at, void *scanner, ParseState *ps, const char *msg);
}

%union {
    Value token;
    Value *value;
    ValueVec *args;
    Attr *attr;
    Stmt *stmt;
}

%token <token> IDENT "an identifier"
%token <token> NAME "a dotted name"
%token <token> NUMBER "a number"
%token <token> SHAPE "a shape"
%token <token> STRING "a string"
%token NEWLINE "end of line"
%token ':' '=' '[' ']' ','

%type <token> label scalar
%type <value> value list
%type <args> args
%type <attr> attrs attr
%type <stmt> stmt body

%%

program : %empty
        | program line
        ;

line    : NEWLINE
        | stmt NEWLINE          { ast_add_stmt(ps, $1); }
        | error NEWLINE         { yyerrok; ast_recovered(ps); }
        ;

stmt    : body
        | label ':' body        { $$ = ast_labeled($3, &$1); }
        ;

label   : IDENT
        | NAME
        ;

body    : IDENT args            { $$ = ast_stmt(&$1, $2, NULL); }
        | IDENT args attrs      { $$ = ast_stmt(&$1, $2, $3); }
        ;

args    : %empty                { $$ = ast_args(); }
        | args value            { $$ = ast_args_push($1, $2); }
        ;

attrs   : attr
        | attrs attr            { $$ = ast_attrs_append($1, $2); }
        ;

attr    : IDENT '=' value       { $$ = ast_attr(&$1, $3); }
        ;

value   : scalar                { $$ = ast_value(&$1); }
        | list
        ;

scalar  : NUMBER
        | SHAPE
        | STRING
        | IDENT
        | NAME
        ;

/* Nested brackets only group rows: their numbers go, in reading order, into
 * the one flat list being read (ps->numbers). */
list    : '[' items ']'         { $$ = ast_list(ps, @1, @3); }
        ;

items   : %empty
        | elems
        | elems ','
        ;

elems   : elem
        | elems elem
        | elems ',' elem
        ;

elem    : NUMBER                { ast_list_number(ps, &$1); }
        | '[' items ']'
        ;

%%

static void yyerror(const YYLTYPE *at, void *scanner, ParseState *ps, const char *msg) {
    (void)scanner;
    ast_error(ps, at->loc, msg);
}

static bool is_value_start(yysymbol_kind_t k) {
    return k == YYSYMBOL_NUMBER || k == YYSYMBOL_SHAPE || k == YYSYMBOL_STRING || k == YYSYMBOL_IDENT
           || k == YYSYMBOL_NAME || k == YYTRANSLATE('[');
}

static bool expects(const yysymbol_kind_t *kinds, int n, yysymbol_kind_t k) {
    for (int i = 0; i < n; i++)
        if (kinds[i] == k)
            return true;
    return false;
}

/* The expected tokens as phrases: at the start of a line "a statement";
 * where any value may come, "a value"; inside a list, numbers (a nested '['
 * goes unmentioned); "end of line" last. */
static int expected_phrases(const yypcontext_t *ctx, const char **out) {
    yysymbol_kind_t kinds[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, kinds, YYNTOKENS);
    if (expects(kinds, n, YYSYMBOL_YYEOF)) {
        out[0] = "a statement";
        return 1;
    }
    bool any_value = expects(kinds, n, YYSYMBOL_STRING);
    int count = 0;
    if (any_value)
        out[count++] = "a value";
    for (int i = 0; i < n; i++)
        if (kinds[i] != YYSYMBOL_NEWLINE && !(any_value ? is_value_start(kinds[i]) : kinds[i] == YYTRANSLATE('[')))
            out[count++] = yysymbol_name(kinds[i]);
    if (expects(kinds, n, YYSYMBOL_NEWLINE))
        out[count++] = yysymbol_name(YYSYMBOL_NEWLINE);
    return count;
}

/* The lookahead as the user wrote it. */
static const char *unexpected_phrase(const yypcontext_t *ctx, const ParseState *ps) {
    const Span *at = yypcontext_location(ctx);
    switch (yypcontext_token(ctx)) {
    case YYSYMBOL_YYEOF: return "end of file";
    case YYSYMBOL_NEWLINE: return at->offset >= ps->file->len ? "end of file" : "end of line";
    case YYSYMBOL_STRING: return arena_strndup(ps->file->text + at->offset, (size_t)at->nbytes);
    default: return arena_printf("'%.*s'", at->nbytes, ps->file->text + at->offset);
    }
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, ParseState *ps) {
    (void)scanner;
    const char *expected[YYNTOKENS];
    int n = expected_phrases(ctx, expected);
    char *msg = arena_printf("unexpected %s", unexpected_phrase(ctx, ps));
    for (int i = 0; i < n; i++)
        msg = arena_printf("%s%s%s", msg, i == 0 ? ", expected " : i == n - 1 ? " or " : ", ", expected[i]);
    ast_error(ps, yypcontext_location(ctx)->loc, msg);
    return 0;
}
