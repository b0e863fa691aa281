/* harness.c — times cnnc's generated <model>_infer in-process.
 *
 * Built by bench.py once per model and target with
 *   -DCNNC_HEADER='"model.h"' -DINFER=mnist_infer
 *   -DIN_SIZE=MNIST_INPUT_SIZE -DOUT_SIZE=MNIST_OUTPUT_SIZE
 * Usage: harness INPUT.bin OUTPUT.bin [once]
 * With `once` it makes one call and no timing: bench.py runs it so under
 * callgrind to count the instructions of one inference.
 */
#include CNNC_HEADER
#include "timing.h"

#include <string.h>

static const float *bench_input;
static float bench_output[OUT_SIZE];

static void run_once(void *ctx) {
    (void)ctx;
    INFER(bench_input, bench_output);
}

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "once"))) {
        fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin [once]\n", argv[0]);
        return 2;
    }
    bench_input = bench_read_floats(argv[1], IN_SIZE);
    if (argc == 4)
        run_once(NULL);
    else
        bench_measure(run_once, NULL);
    bench_write_floats(argv[2], bench_output, OUT_SIZE);
    return 0;
}
