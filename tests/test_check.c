/* test_check.c — the semantic checker: shapes, parameters, MACs, names,
 * defaults and weight layouts, checked against textbook numbers (the Keras
 * and TensorFlow tutorials' model.summary() tables). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cnnc.h"

static char *diag_text;
static size_t diag_len;

/* Parses and checks SRC (named PATH); diagnostics go to diag_text.  Without
 * load, as under --summary, no file is opened but inline tensors are checked. */
static Model *check_named(const char *path, const char *src, bool load) {
    diag_reset();
    FILE *d = open_memstream(&diag_text, &diag_len);
    diag_set_stream(d);
    Program *p = parse_program(srcfile_from_string(path, src));
    Model *m = check_program(p, load);
    fclose(d);
    diag_set_stream(NULL);
    return m;
}

static Model *check_ok(const char *src) {
    Model *m = check_named("t.cnn", src, false);
    cr_assert_eq(diag_error_count(), 0, "unexpected errors:\n%s", diag_text);
    return m;
}

static Model *check_file(const char *path, bool load) {
    diag_reset();
    FILE *d = open_memstream(&diag_text, &diag_len);
    diag_set_stream(d);
    SrcFile *f = srcfile_load(path);
    cr_assert(f, "cannot read %s", path);
    Model *m = check_program(parse_program(f), load);
    fclose(d);
    diag_set_stream(NULL);
    cr_assert_eq(diag_error_count(), 0, "unexpected errors in %s:\n%s", path, diag_text);
    return m;
}

static const Layer *layer(const Model *m, const char *name) {
    for (int i = 0; i < m->nlayers; i++)
        if (!strcmp(m->layers[i].name, name))
            return &m->layers[i];
    cr_assert_fail("no layer %s", name);
    return NULL;
}

static void assert_shape(Shape s, const char *want) { cr_assert_str_eq(shape_str(s), want); }

static long long total_params(const Model *m) {
    long long n = 0;
    for (int i = 0; i < m->nlayers; i++)
        n += m->layers[i].params;
    return n;
}

Test(shapes, conv_on_cifar_input) {
    Model *m = check_ok("input 32x32x3\nc: conv2d filters=32 kernel=3\n");
    assert_shape(layer(m, "c")->out, "30x30x32");
    cr_assert_eq(layer(m, "c")->params, 896);
    cr_assert_eq(layer(m, "c")->macs, 30LL * 30 * 32 * 27);
}

Test(shapes, conv_on_256_image) {
    Model *m = check_ok("input 256x256x3\nc: conv2d filters=64 kernel=3x3\n");
    assert_shape(layer(m, "c")->out, "254x254x64");
    cr_assert_eq(layer(m, "c")->params, 1792);
}

Test(shapes, cifar_network) {
    Model *m = check_file("../examples/cifar.cnn", true);
    cr_assert_eq(layer(m, "conv1")->params, 896);
    cr_assert_eq(layer(m, "conv2")->params, 18496);
    cr_assert_eq(layer(m, "conv3")->params, 36928);
    cr_assert_eq(layer(m, "conv1")->params + layer(m, "conv2")->params + layer(m, "conv3")->params, 56320);
    assert_shape(layer(m, "conv3")->out, "4x4x64");
    cr_assert_eq(layer(m, "fc1")->params, 65600);
    cr_assert_eq(total_params(m), 122570);
    assert_shape(m->output, "10");
    cr_assert_eq(layer(m, "fc1")->t[T_WEIGHT].count, 1024 * 64);
}

Test(shapes, mnist_network) {
    Model *m = check_file("../examples/mnist.cnn", true);
    assert_shape(layer(m, "conv3")->out, "3x3x64");
    assert_shape(layer(m, "flatten_1")->out, "576");
    cr_assert_eq(total_params(m), 93322);
    cr_assert_eq(layer(m, "fc1")->macs, 576 * 64);
    cr_assert_str_eq(m->name, "mnist");
    cr_assert(m->weights_loaded);
}

Test(shapes, every_example_checks) {
    static const char *const files[] = {
        "../examples/lenet5.cnn", "../examples/policy.cnn", "../examples/sharpen.cnn",
        "../examples/box_blur.cnn", "../examples/gaussian_blur.cnn", "../examples/edge_detect.cnn",
        "../examples/emboss.cnn", "../examples/sobel.cnn", "../examples/flowers.cnn"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        check_file(files[i], false);
    Model *lenet = check_file("../examples/lenet5.cnn", true);
    assert_shape(layer(lenet, "s4")->out, "5x5x16");
    cr_assert_eq(total_params(lenet), 61706);
    Model *flowers = check_file("../examples/flowers.cnn", false);
    assert_shape(layer(flowers, "maxpool_3")->out, "22x22x64");
    cr_assert_eq(layer(flowers, "fc1")->params, 3965056);   /* the TensorFlow tutorial's summary */
    cr_assert_eq(total_params(flowers), 3989285);
}

Test(shapes, policy_per_position_bias) {
    Model *m = check_file("../examples/policy.cnn", true);
    const Layer *head = layer(m, "head");
    cr_assert(head->per_position_bias);
    cr_assert_eq(head->params, 64 + 361);
    assert_shape(m->output, "361");
    assert_shape(layer(m, "conv1")->out, "19x19x64");
}

/* TensorFlow `same`: out = ceil(in/stride), the smaller half of the padding before. */
Test(shapes, same_padding_split) {
    Model *m = check_ok("input 7x8x1\nc: conv2d filters=1 kernel=3 stride=2 padding=same\n");
    const Layer *c = layer(m, "c");
    assert_shape(c->out, "4x4x1");
    cr_assert_eq(c->pad_top, 1);      /* rows: (4-1)*2+3-7 = 2 → 1 + 1 */
    cr_assert_eq(c->pad_bottom, 1);
    cr_assert_eq(c->pad_left, 0);     /* cols: (4-1)*2+3-8 = 1 → 0 + 1 */
    cr_assert_eq(c->pad_right, 1);
    m = check_ok("input 5x5x1\nc: conv2d filters=1 kernel=4 padding=same\n");
    c = layer(m, "c");
    assert_shape(c->out, "5x5x1");
    cr_assert_eq(c->pad_top, 1);
    cr_assert_eq(c->pad_bottom, 2);
}

Test(shapes, dilation) {
    Model *m = check_ok("input 10x10x2\nc: conv2d filters=4 kernel=3 dilation=2\n"
                        "d: conv2d filters=4 kernel=3 dilation=2x1 padding=same\n");
    assert_shape(layer(m, "c")->out, "6x6x4");
    cr_assert_eq(layer(m, "c")->dh, 2);
    const Layer *d = layer(m, "d");
    assert_shape(d->out, "6x6x4");
    cr_assert_eq(d->pad_top, 2);
    cr_assert_eq(d->pad_bottom, 2);
    cr_assert_eq(d->pad_left, 1);
    cr_assert_eq(d->pad_right, 1);
}

Test(shapes, every_padding_form) {
    Model *m = check_ok("input 8x8x1\n"
                        "a: conv2d filters=1 kernel=3 padding=valid\n"
                        "b: conv2d filters=1 kernel=3 padding=1\n"
                        "c: conv2d filters=1 kernel=3 padding=2x0\n"
                        "d: conv2d filters=1 kernel=3 padding=[0, 1, 2, 3]\n");
    assert_shape(layer(m, "a")->out, "6x6x1");
    assert_shape(layer(m, "b")->out, "6x6x1");
    assert_shape(layer(m, "c")->out, "8x4x1");
    const Layer *d = layer(m, "d");
    assert_shape(d->out, "7x7x1");   /* chained: input 8x4x1 */
    cr_assert_eq(d->pad_top + d->pad_bottom * 10 + d->pad_left * 100 + d->pad_right * 1000, 3210);
}

Test(shapes, padded_conv_counts_padding_taps) {
    Model *m = check_ok("input 4x4x1\nc: conv2d filters=2 kernel=3 padding=same bias=false\n");
    cr_assert_eq(layer(m, "c")->macs, 4 * 4 * 2 * 9);
    cr_assert_eq(layer(m, "c")->params, 18);
}

Test(shapes, pools) {
    Model *m = check_ok("input 5x5x3\np: maxpool\nq: avgpool size=3 stride=1 padding=same count_pad=true\n"
                        "g: global_avgpool\n");
    const Layer *p = layer(m, "p");
    assert_shape(p->out, "2x2x3");
    cr_assert_eq(p->sh, 2);
    cr_assert_eq(p->dh, 1);
    const Layer *q = layer(m, "q");
    assert_shape(q->out, "2x2x3");
    cr_assert(q->count_pad);
    cr_assert_eq(q->pad_top, 1);
    assert_shape(layer(m, "g")->out, "3");
}

Test(shapes, softmax_and_activations) {
    Model *m = check_ok("input 4x4x3\ns: softmax\nl: leaky_relu alpha=0.2\ng: global_maxpool\nr: relu6\nflatten\n");
    assert_shape(layer(m, "s")->out, "4x4x3");
    cr_assert_eq(layer(m, "s")->act, ACT_SOFTMAX);
    cr_assert_float_eq(layer(m, "l")->alpha, 0.2f, 1e-7);
    cr_assert_eq(layer(m, "r")->act, ACT_RELU6);
    assert_shape(m->output, "3");
}

Test(names, automatic_and_dotted) {
    Model *m = check_ok("input 8x8x1\nconv1: conv2d filters=1 kernel=1\nconv2d filters=1 kernel=1\nmaxpool\n"
                        "features.0: conv2d filters=1 kernel=1\nflatten\ndense units=3\n");
    cr_assert_str_eq(m->layers[1].name, "conv2d_2");
    cr_assert_str_eq(m->layers[2].name, "maxpool_1");
    cr_assert_str_eq(m->layers[3].name, "features.0");
    cr_assert_str_eq(m->layers[3].cname, "features_0");
    cr_assert_str_eq(m->layers[5].name, "dense_1");
    cr_assert_eq(m->layers[3].line, 5);
}

Test(names, default_model_name_from_stem) {
    Model *m = check_named("dir/3d-net.v2.cnn", "input 4\nrelu\n", false);
    cr_assert_str_eq(m->name, "_3d_net_v2");
    m = check_named("tiny.cnn", "input 4\nrelu\n", false);
    cr_assert_str_eq(m->name, "tiny");
    /* SPEC 1.6 turns every non-identifier character, not byte, into '_' */
    m = check_named("mod\xC3\xA8le \xE2\x82\xAC.cnn", "input 4\nrelu\n", false);
    cr_assert_str_eq(m->name, "mod_le__");
}

Test(input, order_and_vectors) {
    Model *m = check_ok("input 4x5x3 order=chw\nrelu\n");
    cr_assert(m->input_chw);
    assert_shape(m->input, "4x5x3");
    m = check_ok("input 10\nd: dense units=2 weights=[1 2 3 4 5 6 7 8 9 10 1 2 3 4 5 6 7 8 9 10]\n");
    cr_assert_not(m->input_chw);
    assert_shape(m->input, "10");
    cr_assert_eq(layer(m, "d")->params, 22);
}

/* Canonical conv layout [KH][KW][Cin][F]: value at (y,x,c,f) is 1000f+100c+10y+x
 * whatever order it was written in. */
static void assert_conv_canonical(const Layer *l) {
    const Tensor *t = &l->t[T_WEIGHT];
    cr_assert_eq(t->count, 2 * 3 * 2 * 2);
    cr_assert_eq(t->ndims, 4);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 2; c++)
                for (int f = 0; f < 2; f++)
                    cr_assert_float_eq(t->data[((y * 3 + x) * 2 + c) * 2 + f], 1000 * f + 100 * c + 10 * y + x, 0,
                                       "at y%d x%d c%d f%d", y, x, c, f);
}

/* The list for that tensor written in torch [F][Cin][KH][KW] or keras order. */
static const char *conv_values(bool torch) {
    const char *s = "";
    int n0 = 2, n1 = torch ? 2 : 3, n2 = 2, n3 = torch ? 3 : 2;
    for (int i0 = 0; i0 < n0; i0++)
        for (int i1 = 0; i1 < n1; i1++)
            for (int i2 = 0; i2 < n2; i2++)
                for (int i3 = 0; i3 < n3; i3++) {
                    int f = torch ? i0 : i3, c = torch ? i1 : i2, y = torch ? i2 : i0, x = torch ? i3 : i1;
                    s = arena_printf("%s %d", s, 1000 * f + 100 * c + 10 * y + x);
                }
    return s;
}

Test(layouts, conv_inline_keras_and_torch) {
    for (int torch = 0; torch < 2; torch++) {
        Model *m = check_ok(arena_printf("input 4x4x2\nc: conv2d filters=2 kernel=2x3 bias=false layout=%s weights=[%s]\n",
                                         torch ? "torch" : "keras", conv_values(torch)));
        assert_conv_canonical(layer(m, "c"));
    }
}

Test(layouts, dense_torch_transposed) {
    /* torch [out=2][in=3]: row o holds 10o + i */
    Model *m = check_ok("input 3\nd: dense units=2 layout=torch weights=[[0 1 2] [10 11 12]] bias=[5 6]\n");
    const Tensor *t = &layer(m, "d")->t[T_WEIGHT];
    for (int i = 0; i < 3; i++)
        for (int o = 0; o < 2; o++)
            cr_assert_float_eq(t->data[i * 2 + o], 10 * o + i, 0);
    cr_assert_eq(t->dims[0], 3);
    cr_assert_float_eq(layer(m, "d")->t[T_BIAS].data[1], 6, 0);
}

Test(layouts, per_position_bias) {
    /* 2x2 output, 2 filters; torch [F][OH][OW] value 10f + position */
    Model *m = check_ok("input 2x2x1\nc: conv2d filters=2 kernel=1 weights=[1 1] layout=torch "
                        "bias=[0 1 2 3 10 11 12 13]\n");
    const Layer *c = layer(m, "c");
    cr_assert(c->per_position_bias);
    cr_assert_eq(c->params, 2 + 8);
    for (int p = 0; p < 4; p++)
        for (int f = 0; f < 2; f++)
            cr_assert_float_eq(c->t[T_BIAS].data[p * 2 + f], 10 * f + p, 0);
    m = check_ok("input 2x2x1\nc: conv2d filters=1 kernel=1 weights=[1] bias=[1 2 3 4]\n");
    cr_assert(layer(m, "c")->per_position_bias);
    cr_assert_eq(layer(m, "c")->t[T_BIAS].ndims, 3);
}

/* A torch-layout safetensors bundle written here: conv weight [F=2][Cin=2][2][3]. */
static void write_torch_bundle(const char *path) {
    float w[24];
    int i = 0;
    for (int f = 0; f < 2; f++)
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 3; x++)
                    w[i++] = (float)(1000 * f + 100 * c + 10 * y + x);
    float b[2] = {7, 8};
    char header[160];
    int n = snprintf(header, sizeof header,
                     "{\"c.weight\":{\"dtype\":\"F32\",\"shape\":[2,2,2,3],\"data_offsets\":[0,96]},"
                     "\"c.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[96,104]}}");
    while (n % 8)
        header[n++] = ' ';
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    unsigned long long len = (unsigned long long)n;
    unsigned char le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (unsigned char)(len >> (8 * k));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, (size_t)n, f);
    fwrite(w, sizeof w, 1, f);
    fwrite(b, sizeof b, 1, f);
    fclose(f);
}

Test(layouts, torch_bundle_repacked) {
    char dir[] = "/tmp/cnnc_check_XXXXXX";
    cr_assert(mkdtemp(dir));
    write_torch_bundle(arena_printf("%s/w.safetensors", dir));
    Model *m = check_named(arena_printf("%s/m.cnn", dir),
                           "weights \"w.safetensors\" layout=torch\ninput 4x4x2\nc: conv2d filters=2 kernel=2x3\n", true);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    assert_conv_canonical(layer(m, "c"));
    cr_assert_float_eq(layer(m, "c")->t[T_BIAS].data[0], 7, 0);
    remove(arena_printf("%s/w.safetensors", dir));
    remove(dir);
}

Test(affine, batchnorm_rescale_normalize) {
    Model *m = check_ok("input 2x2x2\n"
                        "b: batchnorm gamma=[2 1] beta=[1 0] mean=[3 0] var=[4 1] epsilon=0\n"
                        "r: rescale scale=1/255 offset=[-1 1]\n"
                        "n: normalize mean=0.5 std=[0.25 0.5]\n");
    double s, t;
    layer_affine(layer(m, "b"), 0, &s, &t);
    cr_assert_float_eq(s, 1.0, 1e-12);            /* 2/sqrt(4) */
    cr_assert_float_eq(t, 1 - 3.0, 1e-12);
    cr_assert_eq(layer(m, "b")->params, 8);
    layer_affine(layer(m, "r"), 1, &s, &t);
    cr_assert_float_eq(s, 1 / 255.0, 1e-7);
    cr_assert_float_eq(t, 1.0, 1e-12);
    layer_affine(layer(m, "n"), 1, &s, &t);
    cr_assert_float_eq(s, 2.0, 1e-12);
    cr_assert_float_eq(t, -1.0, 1e-12);
    cr_assert_eq(layer(m, "n")->t[T_MEAN].count, 2);
}

/* "Weights: 490,880 bytes" → 490880. */
static long long grouped_number(const char *line) {
    cr_assert(line);
    long long n = 0;
    for (const char *p = strchr(line, ' '); *p && *p != '\n'; p++)
        if (*p >= '0' && *p <= '9')
            n = n * 10 + (*p - '0');
    return n;
}

Test(summary, table_with_thousands_separators) {
    Model *m = check_file("../examples/cifar.cnn", false);
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    print_summary(m, 123456, out);
    fclose(out);
    cr_assert(strstr(text, "Model: \"cifar\""), "%s", text);
    cr_assert(strstr(text, "18,496"), "%s", text);
    cr_assert(strstr(text, "Total params: 122,570\n"), "%s", text);
    cr_assert_geq(grouped_number(strstr(text, "Weights: ")), 4 * 122570, "%s", text);   /* kernels may pad */
    cr_assert(strstr(text, "Workspace: 123,456 bytes\n"), "%s", text);
    cr_assert(strstr(text, "13x13x64"), "%s", text);
    free(text);
}

/* Without load a tensor from a file has its expected size and no data; a
 * missing bundle is no error, and the conv2d bias it would hold is assumed
 * to be one per filter. */
Test(summary, missing_bundle_is_no_error_without_load) {
    Model *m = check_named("nowhere/m.cnn", "weights \"missing.npz\"\ninput 4x4x1\nc: conv2d filters=2 kernel=3\n", false);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    cr_assert_eq(layer(m, "c")->t[T_WEIGHT].count, 18);
    cr_assert_null(layer(m, "c")->t[T_WEIGHT].data);
    cr_assert_eq(layer(m, "c")->params, 20);
    cr_assert(layer(m, "c")->bias_assumed);
}

Test(dump, shapes_one_line_per_layer) {
    Model *m = check_ok("input 6x6x1\nc: conv2d filters=2 kernel=3 weights=[1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9] bias=false\n");
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    dump_shapes(m, out);
    fclose(out);
    cr_assert(strstr(text, "c                    conv2d         6x6x1 -> 4x4x2\n"), "%s", text);
    free(text);
}

Test(summary, npy_not_opened_without_load) {
    Model *m = check_named("m.cnn", "input 4\nd: dense units=2 weights=\"nowhere.npy\" bias=[1 2]\n", false);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    cr_assert_eq(layer(m, "d")->t[T_WEIGHT].count, 8);
    cr_assert_null(layer(m, "d")->t[T_WEIGHT].data);
    cr_assert_eq(layer(m, "d")->t[T_BIAS].count, 2);
    cr_assert_not(m->weights_loaded);
}

/* rescale folds into the conv after it and batchnorm into the conv before
 * it: only the conv's arrays are emitted. */
Test(summary, weight_bytes_after_folding) {
    static const char *const models[] = {
        "input 4x4x3\nrescale scale=2\nconv2d filters=2 kernel=1 weights=[1 2 3 4 5 6] bias=false\n"
        "batchnorm mean=[0 0] var=[1 1]\n",
        "input 4x4x3\nconv2d filters=2 kernel=1 weights=[1 2 3 4 5 6] bias=[0 0]\n"};
    char *text[2];
    for (int i = 0; i < 2; i++) {
        size_t len;
        FILE *out = open_memstream(&text[i], &len);
        print_summary(check_ok(models[i]), -1, out);
        fclose(out);
    }
    const char *a = strstr(text[0], "Weights: "), *b = strstr(text[1], "Weights: ");
    cr_assert(a && b);
    cr_assert_eq(strcspn(a, "\n"), strcspn(b, "\n"));
    cr_assert_eq(strncmp(a, b, strcspn(a, "\n")), 0, "%s\n%s", text[0], text[1]);
    cr_assert_null(strstr(text[0], "Workspace"));
    free(text[0]);
    free(text[1]);
}

/* After a syntax error layers are still named and checked, but get no shapes. */
Test(flow, no_shapes_after_syntax_error) {
    Model *m = check_named("t.cnn", "input 8x8x1\nconv2d filters=2 kernel=3 )\nc: conv2d filters=1 kernel=1\n", false);
    cr_assert_eq(diag_error_count(), 1, "%s", diag_text);
    cr_assert_eq(m->nlayers, 1);
    cr_assert_str_eq(m->layers[0].name, "c");
    cr_assert_eq(m->layers[0].out.rank, 0);
}

/* A dense layer's output is known whatever its input: checking resumes. */
Test(flow, shapes_resume_after_dense) {
    Model *m = check_named("t.cnn", "input 8x8x1\nconv2d filters=1 kernel=9\nfc: dense units=6\nr: leaky_relu\n", false);
    cr_assert_eq(diag_error_count(), 1, "%s", diag_text);
    assert_shape(layer(m, "fc")->out, "6");
    assert_shape(layer(m, "r")->in, "6");
    cr_assert_float_eq(layer(m, "r")->alpha, 0.01f, 1e-9);
}

static char *summary_text(const Model *m) {
    char *text;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    print_summary(m, -1, out);
    fclose(out);
    return text;
}

/* SPEC 1.4: the policy head's bias in the bundle has 19*19 values, one per
 * position.  --summary reads no weights but takes that size from the bundle. */
Test(summary, per_position_bias_size_read_from_bundle) {
    Model *m = check_file("../examples/policy.cnn", false);
    const Layer *head = layer(m, "head");
    cr_assert(head->per_position_bias);
    cr_assert_not(head->bias_assumed);
    cr_assert_eq(head->params, 64 + 361);
    char *text = summary_text(m);
    cr_assert(strstr(text, "head       conv2d          19x19x1                  425 "), "%s", text);
    cr_assert(strstr(text, "Total params: 483,497\n"), "%s", text);
    cr_assert_null(strchr(text, '*'), "%s", text);
    free(text);
}

/* Without the bundle the size is unknown: one bias per filter is assumed,
 * and the table says so. */
Test(summary, bias_assumed_without_bundle_is_marked) {
    size_t len;
    char *src = read_whole_file("../examples/policy.cnn", &len);
    cr_assert(src);
    Model *m = check_named("/nonexistent/policy.cnn", src, false);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    cr_assert(layer(m, "head")->bias_assumed);
    cr_assert_eq(layer(m, "head")->params, 64 + 1);
    char *text = summary_text(m);
    cr_assert(strstr(text, "head       conv2d          19x19x1                   65*"), "%s", text);
    cr_assert(strstr(text, "\n* bias counted as one per filter: its weights file was not read"), "%s", text);
    free(text);
}

/* A .npy file of 2*2*1 values is a per-position bias, also under --summary. */
Test(summary, per_position_bias_size_read_from_npy) {
    char dir[] = "/tmp/cnnc_check_XXXXXX";
    cr_assert(mkdtemp(dir));
    char header[118];
    int n = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 1), }");
    memset(header + n, ' ', sizeof header - 1 - (size_t)n);
    header[sizeof header - 1] = '\n';
    const char *npy = arena_printf("%s/b.npy", dir);
    FILE *f = fopen(npy, "wb");
    cr_assert(f);
    fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f);
    fwrite(header, 1, sizeof header, f);
    fwrite((float[4]){1, 2, 3, 4}, sizeof(float), 4, f);
    fclose(f);
    Model *m = check_named(arena_printf("%s/m.cnn", dir),
                           "input 3x3x1\nc: conv2d filters=1 kernel=2 weights=\"w.npy\" bias=\"b.npy\"\n", false);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    cr_assert(layer(m, "c")->per_position_bias);
    cr_assert_eq(layer(m, "c")->params, 4 + 4);
    remove(npy);
    remove(dir);
}

/* The summary's weight bytes are the arrays the compiler emits for `auto`
 * (packed, padded to the lanes), the same whether the weights were read or
 * not.  The numbers pin today's packing: a packing change updates them. */
Test(summary, weight_bytes_same_without_weights) {
    static const struct { const char *file, *line; } models[] = {
        {"../examples/policy.cnn", "\nWeights: 7,279,268 bytes\n"},
        {"../examples/mnist.cnn", "\nWeights: 596,008 bytes\n"},
        /* c3: direct weights and U (auto split); f6's 84 outputs padded to 128 (dense blocks of 64) */
        {"../examples/lenet5.cnn", "\nWeights: 307,336 bytes\n"},
        {"../examples/cifar.cnn", "\nWeights: 1,155,368 bytes\n"},
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        for (int load = 0; load < 2; load++) {
            char *text = summary_text(check_file(models[i].file, load));
            cr_expect(strstr(text, models[i].line), "%s (weights %s): want%s%s", models[i].file,
                      load ? "read" : "unread", models[i].line, text);
            free(text);
        }
}

/* Regression: under --summary a torch-layout .npy tensor is sized but not
 * read, so there is nothing to repack (repacking its missing data crashed). */
Test(summary, torch_layout_files_sized_not_read) {
    Model *m = check_named("m.cnn",
                           "input 4x4x2\nc: conv2d filters=3 kernel=3 weights=\"cw.npy\" bias=\"cb.npy\" layout=torch\n"
                           "flatten\nd: dense units=5 weights=\"dw.npy\" bias=false layout=torch\n",
                           false);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    const Layer *c = layer(m, "c"), *d = layer(m, "d");
    cr_assert_eq(c->t[T_WEIGHT].count, 3 * 3 * 2 * 3);
    cr_assert_null(c->t[T_WEIGHT].data);
    cr_assert_eq(c->params, 54 + 3);
    cr_assert_eq(d->t[T_WEIGHT].count, 12 * 5);
    cr_assert_null(d->t[T_WEIGHT].data);
    cr_assert(strstr(diag_text, "warning: dense layer 'd' has torch-layout weights"), "%s", diag_text);
}

/* Finite weights whose folded product overflows float32 (a huge batchnorm
 * scale, a normalize std near the smallest float) are reported at the layer,
 * not left to the emitter's internal error. */
Test(compiled, folded_weights_beyond_float32_are_errors) {
    Model *m = check_named("t.cnn",
                           "input 4\n"
                           "d: dense units=1 weights=[1e38 1e38 1 1] bias=[0]\n"
                           "bn: batchnorm mean=[0] var=[1e-20] epsilon=0\n"
                           "relu\n"
                           "n: normalize mean=[0] std=[1e-45]\n",
                           true);
    cr_assert_eq(diag_error_count(), 0, "%s", diag_text);
    EmitOptions opts = {.target = target_by_name("scalar")};
    Ir *ir = lower_model(m, &opts);
    FILE *d = open_memstream(&diag_text, &diag_len);
    diag_set_stream(d);
    check_compiled_weights(ir);
    fclose(d);
    diag_set_stream(NULL);
    cr_assert_str_eq(diag_text,
                     "t.cnn:2:4: error: layer 'd': folding 'bn' into its weights gives values beyond the float32 range\n"
                     "d: dense units=1 weights=[1e38 1e38 1 1] bias=[0]\n"
                     "   ^~~~~\n"
                     "t.cnn:5:4: error: layer 'n': its compiled weights are beyond the float32 range\n"
                     "n: normalize mean=[0] std=[1e-45]\n"
                     "   ^~~~~~~~~\n");
    cr_assert_eq(diag_error_count(), 2);
}
