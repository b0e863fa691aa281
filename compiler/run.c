/* stub: being written */
#include "cnnc.h"
int run_model(const Model *m, const char *input_path, const char *output_path) { (void)m; (void)input_path; (void)output_path; return 1; }
