/* ops/conv_simd.c — stub until the SIMD engineer fills it: no fast kernel
 * yet, so every op falls back to the scalar one (see cnnc.h). */
#include "cnnc.h"

const KernelEmitter *conv_simd_kernel(const IrOp *op, const Target *t) {
    (void)op;
    (void)t;
    return NULL;
}
