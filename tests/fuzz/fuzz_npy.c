/* fuzz_npy.c — libFuzzer target: the bytes are a .npy file.  Whatever the
 * header claims, npy_parse must return true or false with a message, and a
 * parsed tensor must convert (or refuse) without reading out of bounds. */
#include "cnnc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    RawTensor raw;
    Tensor t;
    char err[256];
    if (npy_parse(data, size, &raw, err, sizeof err))
        raw_to_tensor(&raw, &t, err, sizeof err);
    arena_free_all();
    return 0;
}
