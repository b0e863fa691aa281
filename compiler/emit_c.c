/* stub: being written */
#include "cnnc.h"
void emit_c(const Ir *ir, const EmitOptions *opts, FILE *c_out, FILE *h_out) { (void)ir; (void)opts; (void)c_out; (void)h_out; }
