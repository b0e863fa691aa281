/* fuzz_safetensors.c — libFuzzer target: the bytes are a safetensors file
 * (length prefix, JSON header, data).  Every tensor parsed is converted, so
 * the declared offsets are exercised against the real data. */
#include "cnnc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    Bundle b;
    Tensor t;
    char err[256];
    if (safetensors_parse(data, size, &b, err, sizeof err))
        for (int i = 0; i < b.count; i++)
            raw_to_tensor(&b.tensors[i], &t, err, sizeof err);
    arena_free_all();
    return 0;
}
