/* test_diag.c — every diagnostic of the checker, with its exact text, line,
 * column and caret line.
 *
 * Each test writes the model as m.cnn's text, checks it from a scratch
 * directory that holds the weight files the messages talk about (w.npy of
 * shape (3, 3, 2), ints.npy of int64, nan.npy of [1, nan, 3, inf],
 * b.safetensors with fc1.weight (4, 3), fc1.bias (3,) and fc.weights (4, 2)),
 * and compares everything printed.
 * Tests that need files load weights (as a compile does); the others check
 * as --summary does, so missing weights are not reported there. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnnc.h"

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A .npy v1.0 file of zeros: header padded so the data starts at byte 128. */
static void write_npy(const char *path, const char *descr, const char *shape, size_t nbytes) {
    char buf[128 + 256] = "\x93NUMPY\x01";
    int n = snprintf(buf + 10, 118, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    cr_assert(n < 117);
    memset(buf + 10 + n, ' ', (size_t)(117 - n));
    buf[127] = '\n';
    buf[8] = 118;
    memset(buf + 128, 0, nbytes);
    write_file(path, buf, 128 + nbytes);
}

/* A .npy v1.0 file of float32 VALUES, shape (n,). */
static void write_npy_values(const char *path, const float *values, int n) {
    char shape[32];
    snprintf(shape, sizeof shape, "(%d,)", n);
    write_npy(path, "<f4", shape, (size_t)n * 4);
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    fseek(f, 128, SEEK_SET);
    fwrite(values, 4, (size_t)n, f);
    fclose(f);
}

static void write_bundle(const char *path) {
    static const char header[] =
        "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[0,48]},"
        "\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[48,60]},"
        "\"fc.weights\":{\"dtype\":\"F32\",\"shape\":[4,2],\"data_offsets\":[60,92]}}";
    size_t n = sizeof header - 1, padded = (n + 7) / 8 * 8;
    unsigned char buf[8 + 256 + 92] = {0};
    for (int k = 0; k < 8; k++)
        buf[k] = (unsigned char)(padded >> (8 * k));
    memcpy(buf + 8, header, n);
    memset(buf + 8 + n, ' ', padded - n);
    write_file(path, buf, 8 + padded + 92);
}

static void enter_scratch_dir(void) {
    char dir[] = "/tmp/cnnc_diag_XXXXXX";
    cr_assert(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    write_npy("w.npy", "<f4", "(3, 3, 2)", 18 * 4);
    write_npy("ints.npy", "<i8", "(4,)", 4 * 8);
    write_bundle("b.safetensors");
    write_npy_values("nan.npy", (const float[]){1, NAN, 3, INFINITY}, 4);
}

static void leave_scratch_dir(void) {
    char dir[256];
    cr_assert(getcwd(dir, sizeof dir));
    remove("w.npy");
    remove("ints.npy");
    remove("b.safetensors");
    remove("nan.npy");
    cr_assert_eq(chdir("/"), 0);
    rmdir(dir);
}

static void expect_diag(bool load, const char *src, const char *expected, int errors) {
    char *text;
    size_t len;
    enter_scratch_dir();
    diag_reset();
    FILE *out = open_memstream(&text, &len);
    diag_set_stream(out);
    check_program(parse_program(srcfile_from_string("m.cnn", src)), load);
    fclose(out);
    diag_set_stream(NULL);
    leave_scratch_dir();
    cr_assert_str_eq(text, expected);
    cr_assert_eq(diag_error_count(), errors);
    free(text);
}

Test(diag, unknown_layer_suggestion) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv filters=2 kernel=3\n",
                "m.cnn:2:1: error: unknown layer 'conv'; did you mean 'conv2d'?\n"
                "conv filters=2 kernel=3\n"
                "^~~~\n",
                1);
}

Test(diag, unknown_layer_no_suggestion) {
    expect_diag(false,
                "input 8x8x1\n"
                "frobnicate\n",
                "m.cnn:2:1: error: unknown layer 'frobnicate'\n"
                "frobnicate\n"
                "^~~~~~~~~~\n",
                1);
}

Test(diag, unknown_attribute_suggestion) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv1: conv2d filter=32 kernel=3\n",
                "m.cnn:2:15: error: unknown attribute 'filter' for conv2d; did you mean 'filters'?\n"
                "conv1: conv2d filter=32 kernel=3\n"
                "              ^~~~~~\n"
                "m.cnn:2:8: error: conv2d needs 'filters='\n"
                "conv1: conv2d filter=32 kernel=3\n"
                "       ^~~~~~\n",
                2);
}

Test(diag, attribute_of_another_layer) {
    expect_diag(false,
                "input 8x8x1\n"
                "maxpool size=2 count_pad=true\n",
                "m.cnn:2:16: error: unknown attribute 'count_pad' for maxpool ('count_pad' is an attribute of avgpool)\n"
                "maxpool size=2 count_pad=true\n"
                "               ^~~~~~~~~\n",
                1);
}

Test(diag, attribute_on_layer_without_any) {
    expect_diag(false,
                "input 8x8x1\n"
                "relu inplace=true\n",
                "m.cnn:2:6: error: unknown attribute 'inplace': relu takes no attributes\n"
                "relu inplace=true\n"
                "     ^~~~~~~\n",
                1);
}

Test(diag, unknown_attribute_lists_the_known_ones) {
    expect_diag(false,
                "input 4x4x1\n"
                "pool: maxpool zzzzzz=3\n",
                "m.cnn:2:15: error: unknown attribute 'zzzzzz' for maxpool (it takes size, stride and padding)\n"
                "pool: maxpool zzzzzz=3\n"
                "              ^~~~~~\n",
                1);
}

Test(diag, duplicate_attribute) {
    expect_diag(false,
                "input 8x8x1\n"
                "maxpool size=2 size=3\n",
                "m.cnn:2:16: error: duplicate attribute 'size'\n"
                "maxpool size=2 size=3\n"
                "               ^~~~\n"
                "m.cnn:2:9: note: 'size' was first given here\n"
                "maxpool size=2 size=3\n"
                "        ^~~~\n",
                1);
}

Test(diag, positive_integer) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=0 kernel=3\n",
                "m.cnn:2:16: error: 'filters' must be a positive integer, not '0'\n"
                "conv2d filters=0 kernel=3\n"
                "               ^\n",
                1);
}

Test(diag, kernel_form) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=2 kernel=3x3x3\n",
                "m.cnn:2:25: error: 'kernel' takes a positive integer N or NxM, not '3x3x3'\n"
                "conv2d filters=2 kernel=3x3x3\n"
                "                        ^~~~~\n",
                1);
}

Test(diag, padding_form) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=2 kernel=3 padding=full\n",
                "m.cnn:2:35: error: 'padding' takes valid, same, P, PHxPW or [top, bottom, left, right] with integers >= 0, not 'full'\n"
                "conv2d filters=2 kernel=3 padding=full\n"
                "                                  ^~~~\n",
                1);
}

Test(diag, activation_suggestion) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=2 kernel=3 activation=rleu\n",
                "m.cnn:2:38: error: unknown activation 'rleu'; did you mean 'relu'?\n"
                "conv2d filters=2 kernel=3 activation=rleu\n"
                "                                     ^~~~\n",
                1);
}

Test(diag, boolean_value) {
    expect_diag(false,
                "input 8x8x1\n"
                "avgpool count_pad=yes\n",
                "m.cnn:2:19: error: 'count_pad' takes false or true, not 'yes'\n"
                "avgpool count_pad=yes\n"
                "                  ^~~\n",
                1);
}

Test(diag, missing_required) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d kernel=3\n",
                "m.cnn:2:1: error: conv2d needs 'filters='\n"
                "conv2d kernel=3\n"
                "^~~~~~\n",
                1);
}

Test(diag, alpha_without_leaky_relu) {
    expect_diag(false,
                "input 4\n"
                "dense units=2 alpha=0.1\n",
                "m.cnn:2:15: error: 'alpha' applies only with activation=leaky_relu\n"
                "dense units=2 alpha=0.1\n"
                "              ^~~~~\n",
                1);
}

Test(diag, dropout_rate_range) {
    expect_diag(false,
                "input 4\n"
                "dropout rate=1.5\n",
                "m.cnn:2:14: error: 'rate' must be a number in [0, 1), not '1.5'\n"
                "dropout rate=1.5\n"
                "             ^~~\n",
                1);
}

Test(diag, bare_value) {
    expect_diag(false,
                "input 4\n"
                "dense 10\n",
                "m.cnn:2:1: error: dense needs 'units='\n"
                "dense 10\n"
                "^~~~~\n"
                "m.cnn:2:7: error: unexpected '10' after 'dense'; attributes are written name=value\n"
                "dense 10\n"
                "      ^~\n",
                2);
}

Test(diag, duplicate_name) {
    expect_diag(false,
                "input 8x8x1\n"
                "c: relu\n"
                "c: relu\n",
                "m.cnn:3:1: error: layer name 'c' is already used\n"
                "c: relu\n"
                "^\n"
                "m.cnn:2:1: note: 'c' was first defined here\n"
                "c: relu\n"
                "^\n",
                1);
}

Test(diag, automatic_name_clash) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d_2: relu\n"
                "conv2d filters=1 kernel=1\n"
                "conv2d filters=1 kernel=1\n",
                "m.cnn:4:1: error: layer name 'conv2d_2' is already used\n"
                "conv2d filters=1 kernel=1\n"
                "^~~~~~\n"
                "m.cnn:2:1: note: 'conv2d_2' was first defined here\n"
                "conv2d_2: relu\n"
                "^~~~~~~~\n",
                1);
}

Test(diag, dotted_name_c_clash) {
    expect_diag(false,
                "input 8x8x1\n"
                "features.0: relu\n"
                "features_0: relu\n",
                "m.cnn:3:1: error: layer names 'features.0' and 'features_0' clash in C: both become 'features_0'\n"
                "features_0: relu\n"
                "^~~~~~~~~~\n"
                "m.cnn:2:1: note: 'features.0' was defined here\n"
                "features.0: relu\n"
                "^~~~~~~~~~\n",
                1);
}

Test(diag, second_input) {
    expect_diag(false,
                "input 8x8x1\n"
                "input 4x4x1\n"
                "relu\n",
                "m.cnn:2:1: error: a second 'input' statement\n"
                "input 4x4x1\n"
                "^~~~~\n"
                "m.cnn:1:1: note: the first 'input' is here\n"
                "input 8x8x1\n"
                "^~~~~\n",
                1);
}

Test(diag, input_after_layer) {
    expect_diag(false,
                "relu\n"
                "input 4\n",
                "m.cnn:2:1: error: 'input' must come before the first layer\n"
                "input 4\n"
                "^~~~~\n"
                "m.cnn:1:1: note: the first layer is here\n"
                "relu\n"
                "^~~~\n",
                1);
}

Test(diag, input_two_sizes) {
    expect_diag(false,
                "input 28x28\n"
                "relu\n",
                "m.cnn:1:7: error: 'input' takes HxWxC or N, not '28x28'; did you mean '28x28x1'?\n"
                "input 28x28\n"
                "      ^~~~~\n",
                1);
}

Test(diag, chw_on_vector) {
    expect_diag(false,
                "input 10 order=chw\n"
                "relu\n",
                "m.cnn:1:16: error: order=chw needs an image input; '10' is a vector\n"
                "input 10 order=chw\n"
                "               ^~~\n",
                1);
}

Test(diag, no_input) {
    expect_diag(false,
                "model m\n",
                "m.cnn:1:1: error: the model has no 'input' statement (input HxWxC or input N)\n"
                "model m\n"
                "^\n",
                1);
}

Test(diag, no_layers) {
    expect_diag(false,
                "input 4\n",
                "m.cnn:1:1: error: the model has no layers after 'input'\n"
                "input 4\n"
                "^~~~~\n",
                1);
}

Test(diag, label_on_model) {
    expect_diag(false,
                "m: model net\n"
                "input 4\n"
                "relu\n",
                "m.cnn:1:1: error: 'model' statement cannot have a name\n"
                "m: model net\n"
                "^\n",
                1);
}

Test(diag, model_name) {
    expect_diag(false,
                "model \"net\"\n"
                "input 4\n"
                "relu\n",
                "m.cnn:1:7: error: 'model' needs a name (an identifier)\n"
                "model \"net\"\n"
                "      ^~~~~\n",
                1);
}

Test(diag, weights_after_layer) {
    expect_diag(false,
                "input 4\n"
                "relu\n"
                "weights \"w.npz\"\n",
                "m.cnn:3:1: error: 'weights' must come before the first layer\n"
                "weights \"w.npz\"\n"
                "^~~~~~~\n"
                "m.cnn:2:1: note: the first layer is here\n"
                "relu\n"
                "^~~~\n",
                1);
}

Test(diag, weights_extension) {
    expect_diag(false,
                "weights \"w.bin\"\n"
                "input 4\n"
                "relu\n",
                "m.cnn:1:9: error: weights bundle \"w.bin\" must be a .safetensors or .npz file\n"
                "weights \"w.bin\"\n"
                "        ^~~~~~~\n",
                1);
}

Test(diag, missing_bundle) {
    expect_diag(true,
                "weights \"nothere.safetensors\"\n"
                "input 4\n"
                "dense units=2\n",
                "m.cnn:1:9: error: weights bundle \"nothere.safetensors\": cannot read 'nothere.safetensors': No such file or directory\n"
                "weights \"nothere.safetensors\"\n"
                "        ^~~~~~~~~~~~~~~~~~~~~\n",
                1);
}

Test(diag, dense_needs_vector) {
    expect_diag(false,
                "input 8x8x2\n"
                "fc: dense units=10\n",
                "m.cnn:2:5: error: dense layer 'fc' needs a vector input, but its input is 8x8x2; add 'flatten' (or 'global_avgpool') before it\n"
                "fc: dense units=10\n"
                "    ^~~~~\n",
                1);
}

Test(diag, conv_needs_image) {
    expect_diag(false,
                "input 10\n"
                "conv2d filters=1 kernel=3\n",
                "m.cnn:2:1: error: conv2d layer 'conv2d_1' needs an image input (HxWxC), but its input is the vector 10\n"
                "conv2d filters=1 kernel=3\n"
                "^~~~~~\n",
                1);
}

Test(diag, output_below_one) {
    expect_diag(false,
                "input 28x28x1\n"
                "conv1: conv2d filters=8 kernel=30 stride=2\n",
                "m.cnn:2:8: error: layer 'conv1' has no output: height floor((28 + 0 + 0 - 30) / 2) + 1 = 0, width floor((28 + 0 + 0 - 30) / 2) + 1 = 0 (input 28x28x1, kernel 30x30, stride 2x2, dilation 1x1)\n"
                "conv1: conv2d filters=8 kernel=30 stride=2\n"
                "       ^~~~~~\n",
                1);
}

Test(diag, pool_window_only_padding) {
    expect_diag(false,
                "input 6x6x1\n"
                "maxpool size=2 padding=2\n",
                "m.cnn:2:1: error: layer 'maxpool_1': a 2x2 window at the edge covers only padding (padding top 2, bottom 2, left 2, right 2 on input 6x6x1)\n"
                "maxpool size=2 padding=2\n"
                "^~~~~~~\n",
                1);
}

Test(diag, inline_count) {
    expect_diag(false,
                "input 4x4x2\n"
                "conv2d filters=2 kernel=3 bias=false weights=[1 2 3]\n",
                "m.cnn:2:46: error: 'weights' of layer 'conv2d_1' has 3 values; expected 36, a (3, 3, 2, 2) tensor (keras layout [KH][KW][Cin][F])\n"
                "conv2d filters=2 kernel=3 bias=false weights=[1 2 3]\n"
                "                                             ^~~~~~~\n",
                1);
}

Test(diag, inline_count_1d) {
    expect_diag(false,
                "input 4\n"
                "dense units=2 weights=[1 2 3 4 5 6 7 8] bias=[1 2 3]\n",
                "m.cnn:2:46: error: 'bias' of layer 'dense_1' has 3 values; expected 2\n"
                "dense units=2 weights=[1 2 3 4 5 6 7 8] bias=[1 2 3]\n"
                "                                             ^~~~~~~\n",
                1);
}

Test(diag, npy_shape) {
    expect_diag(true,
                "input 4x4x2\n"
                "conv2d filters=2 kernel=3 bias=false weights=\"w.npy\"\n",
                "m.cnn:2:46: error: 'weights' of layer 'conv2d_1' (\"w.npy\") has shape (3, 3, 2); expected (3, 3, 2, 2) (keras layout [KH][KW][Cin][F])\n"
                "conv2d filters=2 kernel=3 bias=false weights=\"w.npy\"\n"
                "                                             ^~~~~~~\n",
                1);
}

Test(diag, npy_integer) {
    expect_diag(true,
                "input 4\n"
                "normalize mean=\"ints.npy\" std=1\n",
                "m.cnn:2:16: error: 'mean' of layer 'normalize_1' (\"ints.npy\"): integer tensor (dtype <i8) where float weights are expected\n"
                "normalize mean=\"ints.npy\" std=1\n"
                "               ^~~~~~~~~~\n",
                1);
}

Test(diag, npy_missing) {
    expect_diag(true,
                "input 4\n"
                "rescale scale=\"none.npy\"\n",
                "m.cnn:2:15: error: weights file \"none.npy\": cannot read 'none.npy': No such file or directory\n"
                "rescale scale=\"none.npy\"\n"
                "              ^~~~~~~~~~\n",
                1);
}

Test(diag, not_npy) {
    expect_diag(false,
                "input 4\n"
                "rescale scale=\"s.txt\"\n",
                "m.cnn:2:15: error: 'scale' names the file \"s.txt\", but only .npy files hold a single tensor (name a bundle in the 'weights' statement)\n"
                "rescale scale=\"s.txt\"\n"
                "              ^~~~~~~\n",
                1);
}

Test(diag, no_weights_anywhere) {
    expect_diag(true,
                "input 4\n"
                "dense units=2\n",
                "m.cnn:2:1: error: layer 'dense_1' has no weights: give weights=[...] or weights=\"FILE.npy\", or name a bundle in a 'weights' statement\n"
                "dense units=2\n"
                "^~~~~\n"
                "m.cnn:2:1: error: layer 'dense_1' has no bias: give bias=[...] or bias=\"FILE.npy\", or name a bundle in a 'weights' statement, or write bias=false\n"
                "dense units=2\n"
                "^~~~~\n",
                2);
}

Test(diag, bundle_missing_tensor) {
    expect_diag(true,
                "weights \"b.safetensors\"\n"
                "input 4\n"
                "fc: dense units=2\n",
                "m.cnn:3:5: error: layer 'fc' needs the tensor 'fc.weight', which \"b.safetensors\" does not have\n"
                "fc: dense units=2\n"
                "    ^~~~~\n"
                "m.cnn:3:5: note: the bundle has a tensor 'fc1.weight'\n"
                "fc: dense units=2\n"
                "    ^~~~~\n"
                "m.cnn:3:5: error: layer 'fc' needs the tensor 'fc.bias', which \"b.safetensors\" does not have (write bias=false if the layer has none)\n"
                "fc: dense units=2\n"
                "    ^~~~~\n"
                "m.cnn:3:5: note: the bundle has a tensor 'fc1.bias'\n"
                "fc: dense units=2\n"
                "    ^~~~~\n",
                2);
}

Test(diag, bundle_shape) {
    expect_diag(true,
                "weights \"b.safetensors\" layout=torch\n"
                "input 4\n"
                "fc1: dense units=3\n",
                "m.cnn:1:9: error: tensor 'fc1.weight' in \"b.safetensors\" has shape (4, 3); expected (3, 4) (torch layout [out][in])\n"
                "weights \"b.safetensors\" layout=torch\n"
                "        ^~~~~~~~~~~~~~~\n"
                "m.cnn:3:6: note: needed by layer 'fc1' here\n"
                "fc1: dense units=3\n"
                "     ^~~~~\n",
                1);
}

Test(diag, normalize_needs_std) {
    expect_diag(false,
                "input 2\n"
                "normalize mean=[1 2]\n",
                "m.cnn:2:1: error: normalize layer 'normalize_1' needs 'std='\n"
                "normalize mean=[1 2]\n"
                "^~~~~~~~~\n",
                1);
}

Test(diag, std_zero) {
    expect_diag(false,
                "input 2\n"
                "normalize mean=0 std=[1 0]\n",
                "m.cnn:2:22: error: 'std' of layer 'normalize_1' has a zero at index 1; normalize divides by it\n"
                "normalize mean=0 std=[1 0]\n"
                "                     ^~~~~\n",
                1);
}

Test(diag, flatten_hwc_warning) {
    expect_diag(false,
                "input 2x2x1\n"
                "conv2d filters=2 kernel=1 bias=false weights=[1 2]\n"
                "flat: flatten\n"
                "fc: dense units=1 bias=false layout=torch weights=[1 2 3 4 5 6 7 8]\n",
                "m.cnn:4:5: warning: dense layer 'fc' has torch-layout weights, but 'flat' flattens 2x2x2 in hwc order; PyTorch flattens in chw order (write 'flatten order=chw')\n"
                "fc: dense units=1 bias=false layout=torch weights=[1 2 3 4 5 6 7 8]\n"
                "    ^~~~~\n"
                "m.cnn:3:7: note: 'flat' is here\n"
                "flat: flatten\n"
                "      ^~~~~~~\n",
                0);
}

Test(diag, layout_without_inline_tensors) {
    expect_diag(false,
                "weights \"b.safetensors\"\n"
                "input 4\n"
                "fc1: dense units=3 layout=torch\n",
                "m.cnn:3:20: warning: 'layout' of layer 'fc1' has no effect: it applies to tensors given inline "
                "or as .npy, and a bundle's layout is set in its 'weights' statement\n"
                "fc1: dense units=3 layout=torch\n"
                "                   ^~~~~~\n",
                0);
}

Test(diag, several_errors) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv1: conv2d filters=4 kernel=9\n"
                "relu\n"
                "fc: dense units=0\n"
                "fc2: dense units=3 activation=softmx\n",
                "m.cnn:2:8: error: layer 'conv1' has no output: height floor((8 + 0 + 0 - 9) / 1) + 1 = 0, width floor((8 + 0 + 0 - 9) / 1) + 1 = 0 (input 8x8x1, kernel 9x9, stride 1x1, dilation 1x1)\n"
                "conv1: conv2d filters=4 kernel=9\n"
                "       ^~~~~~\n"
                "m.cnn:4:17: error: 'units' must be a positive integer, not '0'\n"
                "fc: dense units=0\n"
                "                ^\n"
                "m.cnn:5:31: error: unknown activation 'softmx'; did you mean 'softmax'?\n"
                "fc2: dense units=3 activation=softmx\n"
                "                              ^~~~~~\n",
                3);
}

Test(diag, checking_resumes_after_dense) {
    expect_diag(true,
                "input 8x8x1\n"
                "fc: dense units=4 bias=false weights=\"none.npy\"\n"
                "conv2d filters=1 kernel=1\n",
                "m.cnn:2:5: error: dense layer 'fc' needs a vector input, but its input is 8x8x1; add 'flatten' (or 'global_avgpool') before it\n"
                "fc: dense units=4 bias=false weights=\"none.npy\"\n"
                "    ^~~~~\n"
                "m.cnn:2:38: error: weights file \"none.npy\": cannot read 'none.npy': No such file or directory\n"
                "fc: dense units=4 bias=false weights=\"none.npy\"\n"
                "                                     ^~~~~~~~~~\n"
                "m.cnn:3:1: error: conv2d layer 'conv2d_1' needs an image input (HxWxC), but its input is the vector 4\n"
                "conv2d filters=1 kernel=1\n"
                "^~~~~~\n",
                3);
}

Test(diag, after_syntax_error) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=2 kernel=3 )\n"
                "dense units=4 actvation=relu\n"
                "conv2d filters=1 kernel=1\n",
                "m.cnn:2:27: error: unexpected character ')'\n"
                "conv2d filters=2 kernel=3 )\n"
                "                          ^\n"
                "m.cnn:3:15: error: unknown attribute 'actvation' for dense; did you mean 'activation'?\n"
                "dense units=4 actvation=relu\n"
                "              ^~~~~~~~~\n",
                2);
}

/* A statement written over several lines: each error's caret is under the
 * offending token on its own line, not at the start of the statement. */
Test(diag, continued_statement_points_at_its_own_line) {
    expect_diag(false,
                "input 8x8x1\n"
                "conv2d filters=2 \\\n"
                "       kernal=3 \\\n"
                "       activation=rleu\n"
                "dense units=4 \\\n"
                "      bias=false =\n",
                "m.cnn:6:18: error: unexpected '=', expected an identifier or end of line\n"
                "      bias=false =\n"
                "                 ^\n"
                "m.cnn:3:8: error: unknown attribute 'kernal' for conv2d; did you mean 'kernel'?\n"
                "       kernal=3 \\\n"
                "       ^~~~~~\n"
                "m.cnn:4:19: error: unknown activation 'rleu'; did you mean 'relu'?\n"
                "       activation=rleu\n"
                "                  ^~~~\n"
                "m.cnn:2:1: error: conv2d needs 'kernel='\n"
                "conv2d filters=2 \\\n"
                "^~~~~~\n",
                4);
}

/* A token no list can hold, in the middle of a list's later line, is a typo
 * in the list (not a forgotten ']'): reported where it is, once, and the
 * rest of the list is not misread as statements. */
Test(diag, bad_token_inside_multiline_list) {
    expect_diag(false,
                "input 3x3x1\n"
                "conv2d filters=1 kernel=3 bias=false weights=[\n"
                "    1 2 3\n"
                "    4 x 6\n"
                "    7 8 9 ]\n"
                "relu\n"
                "dense units=2 weights=[1 2\n"
                "    3 : 4 ]\n",
                "m.cnn:4:7: error: unexpected 'x', expected a number, ']' or ','\n"
                "    4 x 6\n"
                "      ^\n"
                "m.cnn:8:7: error: unexpected ':', expected a number, ']' or ','\n"
                "    3 : 4 ]\n"
                "      ^\n",
                2);
}

/* A name that begins a line inside an unclosed list starts the next
 * statement: the '[' is reported, and checking goes on after it. */
Test(diag, forgotten_bracket_reported_at_the_list) {
    expect_diag(false,
                "input 3x3x1\n"
                "conv2d filters=1 kernel=3 bias=false weights=[\n"
                "    1 2 3 4 5 6 7 8 9\n"
                "relu\n"
                "dense units=2 actvation=relu\n",
                "m.cnn:2:46: error: missing ']' to close this list\n"
                "conv2d filters=1 kernel=3 bias=false weights=[\n"
                "                                             ^\n"
                "m.cnn:5:15: error: unknown attribute 'actvation' for dense; did you mean 'activation'?\n"
                "dense units=2 actvation=relu\n"
                "              ^~~~~~~~~\n",
                2);
}

/* SPEC 1.4: values are float32.  A NaN or an infinity in a file, or an inline
 * number beyond float32, is an error (it cannot be a C constant), not an
 * internal error in the emitter. */
Test(diag, non_finite_weights) {
    expect_diag(true,
                "input 4\n"
                "rescale scale=\"nan.npy\"\n"
                "rescale scale=[1 2 1e39 4]\n",
                "m.cnn:2:15: error: 'scale' of layer 'rescale_1' (\"nan.npy\") has nan at index 1; weights must be finite float32 values\n"
                "rescale scale=\"nan.npy\"\n"
                "              ^~~~~~~~~\n"
                "m.cnn:3:15: error: 'scale' of layer 'rescale_2' has 1e+39 at index 2, beyond the float32 range\n"
                "rescale scale=[1 2 1e39 4]\n"
                "              ^~~~~~~~~~~~\n",
                2);
}

/* y = gamma*(x-mean)/sqrt(var+epsilon) + beta has no finite value when
 * var + epsilon <= 0. */
Test(diag, batchnorm_variance_not_positive) {
    expect_diag(true,
                "input 3\n"
                "batchnorm mean=[0 0 0] var=[1 -1 0] epsilon=0\n",
                "m.cnn:2:28: error: 'var' of layer 'batchnorm_1' has -1 at index 1; var + epsilon must be > 0\n"
                "batchnorm mean=[0 0 0] var=[1 -1 0] epsilon=0\n"
                "                           ^~~~~~~~\n",
                1);
}

/* Counts read as English, and a tensor that may be one number for every
 * channel says so. */
Test(diag, value_counts_and_broadcast_alternative) {
    expect_diag(false,
                "input 2x2x3\n"
                "batchnorm mean=[1] var=[1 1 1]\n"
                "rescale scale=[1 2]\n",
                "m.cnn:2:16: error: 'mean' of layer 'batchnorm_1' has 1 value; expected 3\n"
                "batchnorm mean=[1] var=[1 1 1]\n"
                "               ^~~\n"
                "m.cnn:3:15: error: 'scale' of layer 'rescale_1' has 2 values; expected 3 (or 1 for all)\n"
                "rescale scale=[1 2]\n"
                "              ^~~~~\n",
                2);
}

/* A size above the limit is "too large", not "not positive". */
Test(diag, input_size_too_large) {
    expect_diag(false,
                "input 16777217\n"
                "relu\n",
                "m.cnn:1:7: error: input 16777217 is too large (each size at most 16777216)\n"
                "input 16777217\n"
                "      ^~~~~~~~\n",
                1);
    expect_diag(false,
                "input 4x16777217x1\n"
                "relu\n",
                "m.cnn:1:7: error: input 4x16777217x1 is too large (each size at most 16777216)\n"
                "input 4x16777217x1\n"
                "      ^~~~~~~~~~~~\n",
                1);
}
