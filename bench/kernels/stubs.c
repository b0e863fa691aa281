/* stubs.c — the few symbols emit_c.c needs that the kernel benchmark does
 * not link the rest of the compiler for. */
#include "cnnc.h"

const char *runtime_header_text(const char *name) { (void)name; return NULL; }
const char *act_name(ActKind a) { (void)a; return "?"; }
const char *layer_kind_name(LayerKind k) { (void)k; return "?"; }
