/* cnnc_simd.h — the `auto` target: cnnc's SIMD vocabulary on the best ISA
 * the C compiler enables.
 *
 * Code generated with --target=auto is written against CNNC_LANES-generic
 * helpers (see cnnc_simd_scalar.h for the list and meaning) and includes
 * this header, which picks, in order: AVX-512F, AVX2 with FMA, SSE4.1 (or
 * plain SSE2, which every x86-64 compiler enables), NEON on AArch64, else the
 * scalar reference.  So one generated file builds for any machine:
 * `cc -O2 -march=native model.c` takes the fastest path.
 * Define CNNC_SIMD_FORCE_SCALAR to take the scalar path anyway.
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_H
#define CNNC_SIMD_H

#if defined(CNNC_SIMD_FORCE_SCALAR)
#include "cnnc_simd_scalar.h"
#elif defined(__AVX512F__)
#include "cnnc_simd_avx512.h"
#elif defined(__AVX2__) && defined(__FMA__)
#include "cnnc_simd_avx2.h"
#elif defined(__SSE2__)
#include "cnnc_simd_sse4.h"
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include "cnnc_simd_neon.h"
#else
#include "cnnc_simd_scalar.h"
#endif

#endif
