/* stub: being written */
#include "cnnc.h"
bool npz_parse(const unsigned char *buf, size_t len, Bundle *out, char *err, size_t errlen) { (void)buf; (void)len; (void)out; snprintf(err, errlen, "no"); return false; }
bool bundle_load(const char *path, Bundle *out, char *err, size_t errlen) { (void)path; (void)out; snprintf(err, errlen, "no"); return false; }
const RawTensor *bundle_find(const Bundle *b, const char *name) { (void)b; (void)name; return NULL; }
