/* stub: being written */
#include "cnnc.h"
const char *layer_kind_name(LayerKind k) { (void)k; return "?"; }
const char *act_name(ActKind a) { (void)a; return "?"; }
