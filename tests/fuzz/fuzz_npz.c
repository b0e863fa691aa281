/* fuzz_npz.c — libFuzzer target: the bytes are a .npz (zip) archive.  Every
 * member found is converted, so inflated data and .npy headers inside the
 * archive are exercised too. */
#include "cnnc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    Bundle b;
    Tensor t;
    char err[256];
    if (npz_parse(data, size, &b, err, sizeof err))
        for (int i = 0; i < b.count; i++)
            raw_to_tensor(&b.tensors[i], &t, err, sizeof err);
    arena_free_all();
    return 0;
}
