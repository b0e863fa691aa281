/* stub: being written */
#include "cnnc.h"
bool npy_parse(const unsigned char *buf, size_t len, RawTensor *out, char *err, size_t errlen) { (void)buf; (void)len; (void)out; snprintf(err, errlen, "no"); return false; }
bool npy_load(const char *path, RawTensor *out, char *err, size_t errlen) { (void)path; (void)out; snprintf(err, errlen, "no"); return false; }
bool raw_to_tensor(const RawTensor *raw, Tensor *out, char *err, size_t errlen) { (void)raw; (void)out; snprintf(err, errlen, "no"); return false; }
