/* npyio.h — the tiny .npy reader/writer and the tolerance check the
 * end-to-end tests share: the harness linked into generated code uses it, and
 * so do test_e2e.c and test_random.c.  It is deliberately independent of the
 * compiler's own loaders (compiler/npy.c), which are under test. */
#ifndef CNNC_TEST_NPYIO_H
#define CNNC_TEST_NPYIO_H

#include <stdbool.h>
#include <stddef.h>

/* A float array read from a little-endian '<f4' or '<f8' C-order .npy,
 * converted to double. */
typedef struct NpyArray {
    double *data;      /* malloc'd; free with npy_free */
    long count;
    int ndims;
    long dims[8];
} NpyArray;

/* false with a message in err on any problem. */
bool npy_read(const char *path, NpyArray *out, char *err, size_t errlen);
bool npy_write_f32(const char *path, const float *data, const long *dims, int ndims);
void npy_free(NpyArray *a);

/* The SPEC §3 tolerance: |got - exp| <= 1e-4 * max(1, |exp|). */
bool within_tolerance(double got, double expected);

/* Compares element by element; on failure writes the number of bad elements
 * and the worst one (index, got, expected) into msg.  NaN never matches. */
bool compare_arrays(const double *got, const double *expected, long count,
                    char *msg, size_t msglen);

#endif
