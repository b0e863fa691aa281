/* fuzz_parse.c — libFuzzer target: the bytes are a .cnn source file.  The
 * lexer and parser get a NUL-terminated copy (as srcfile_load gives them),
 * then the checker runs as under --summary (weights sized, not read) and the
 * summary is printed; diagnostics and the table go to /dev/null so the
 * fuzzer's own output stays readable. */
#include <string.h>

#include "cnnc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static FILE *devnull;
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        diag_set_stream(devnull);
    }
    char *text = arena_strndup((const char *)data, size);
    Model *m = check_program(parse_program(srcfile_from_string("fuzz.cnn", text)), false);
    if (!diag_error_count())
        print_summary(m, -1, devnull);
    diag_reset();
    arena_free_all();
    return 0;
}
