/* ops/simd.h — what the SIMD kernel families (conv_simd.c, dense_simd.c)
 * share; defined in conv_simd.c.  Not part of cnnc.h because no other phase
 * needs it. */
#ifndef CNNC_OPS_SIMD_H
#define CNNC_OPS_SIMD_H

#include "cnnc.h"

/* The target record a SIMD kernel serves (from its isa name); lanes 0 is
 * `auto`, whose lane count only the C compiler knows. */
const Target *simd_kernel_target(const IrOp *op);
/* Vector registers of a target with this many lanes: 32 on AVX-512 and
 * NEON, 16 elsewhere. */
int simd_register_count(const Target *t);
/* `cnnc_vrelu(x)` etc.: the fused activation around a vector expression. */
const char *simd_act_expr(ActKind act, float alpha, const char *x);

#endif
