/* stub: being written */
#include "cnnc.h"
SrcFile *srcfile_load(const char *path) { size_t n; char *t = read_whole_file(path, &n); if (!t) return NULL; SrcFile *f = arena_alloc(sizeof *f); f->path = path; f->text = t; f->len = n; return f; }
SrcFile *srcfile_from_string(const char *path, const char *text) { SrcFile *f = arena_alloc(sizeof *f); f->path = path; f->text = text; return f; }
void dump_tokens(const SrcFile *file, FILE *out) { (void)file; (void)out; }
void dump_ast(const Program *prog, FILE *out) { (void)prog; (void)out; }
Program *parse_program(const SrcFile *file) { (void)file; die("parser not written yet"); }
