/* test_weights_io.c — the .npy, .npz and safetensors readers against the
 * files in fixtures/weights/ (written by NumPy, by torch and by hand in
 * fixtures/gen_weight_files.py): exact values and shapes for good files, exact
 * error texts for malformed ones, plus hostile buffers built in memory. */
#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>

#include "cnnc.h"

#define FIX "fixtures/weights/"

static char err[256];

static const float SIX[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};

static void teardown(void) { arena_free_all(); }

TestSuite(weights_io, .fini = teardown);

static RawTensor npy_ok(const char *name) {
    RawTensor raw;
    bool ok = npy_load(name, &raw, err, sizeof err);
    cr_assert(ok, "%s: %s", name, err);
    return raw;
}

static Tensor tensor_ok(const RawTensor *raw) {
    Tensor t;
    bool ok = raw_to_tensor(raw, &t, err, sizeof err);
    cr_assert(ok, "%s", err);
    return t;
}

static void assert_values(const Tensor *t, const float *want, long long n) {
    cr_assert_eq(t->count, n);
    for (long long i = 0; i < n; i++)
        cr_assert_eq(t->data[i], want[i], "element %lld: %g != %g", i, t->data[i], want[i]);
}

static void assert_dims(const Tensor *t, int ndims, long long d0, long long d1) {
    cr_assert_eq(t->ndims, ndims);
    if (ndims > 0)
        cr_assert_eq(t->dims[0], d0);
    if (ndims > 1)
        cr_assert_eq(t->dims[1], d1);
}

static void assert_npy_error(const char *name, const char *want) {
    RawTensor raw;
    cr_assert_not(npy_load(name, &raw, err, sizeof err), "%s loaded", name);
    cr_assert_str_eq(err, want);
}

static void assert_six(const char *name) {
    RawTensor raw = npy_ok(name);
    Tensor t = tensor_ok(&raw);
    assert_dims(&t, 2, 2, 3);
    assert_values(&t, SIX, 6);
}

/* ----------------------------------------------------------------- .npy */

Test(weights_io, npy_versions_1_2_3) {
    assert_six(FIX "f4_v1.npy");
    assert_six(FIX "f4_v2.npy");
    assert_six(FIX "f4_v3.npy");
    RawTensor raw = npy_ok(FIX "f4_v3.npy");
    cr_assert_eq(raw.dtype, DT_F32);
    cr_assert_str_eq(raw.dtype_name, "<f4");
    cr_assert_not(raw.big_endian);
    cr_assert_eq(raw.nbytes, 24);
}

Test(weights_io, npy_big_endian_f4) {
    RawTensor raw = npy_ok(FIX "f4_be.npy");
    cr_assert(raw.big_endian);
    assert_six(FIX "f4_be.npy");
}

Test(weights_io, npy_float16_both_orders) {
    static const float want[] = {1.0f, -2.0f, 0.5f, 65504.0f, 5.9604644775390625e-08f, 0.0f};
    const char *files[] = {FIX "f2.npy", FIX "f2_be.npy"};
    for (int i = 0; i < 2; i++) {
        RawTensor raw = npy_ok(files[i]);
        cr_assert_eq(raw.dtype, DT_F16);
        Tensor t = tensor_ok(&raw);
        assert_dims(&t, 1, 6, 0);
        assert_values(&t, want, 6);
    }
}

Test(weights_io, npy_float64_both_orders) {
    static const float want[] = {1.5f, -2.25f, 1e-3f};
    const char *files[] = {FIX "f8.npy", FIX "f8_be.npy"};
    for (int i = 0; i < 2; i++) {
        RawTensor raw = npy_ok(files[i]);
        cr_assert_eq(raw.dtype, DT_F64);
        Tensor t = tensor_ok(&raw);
        assert_values(&t, want, 3);
    }
}

Test(weights_io, npy_fortran_order_is_transposed_to_c_order) {
    RawTensor raw = npy_ok(FIX "fortran.npy");
    cr_assert(raw.fortran_order);
    assert_six(FIX "fortran.npy");
    raw = npy_ok(FIX "fortran3d.npy");
    Tensor cube = tensor_ok(&raw);
    cr_assert_eq(cube.ndims, 3);
    cr_assert_eq(cube.dims[2], 4);
    for (int i = 0; i < 24; i++)
        cr_assert_eq(cube.data[i], (float)i);
}

Test(weights_io, npy_scalar_empty_and_key_order) {
    RawTensor raw = npy_ok(FIX "scalar.npy");
    Tensor t = tensor_ok(&raw);
    assert_dims(&t, 0, 0, 0);
    assert_values(&t, (const float[]){3.25f}, 1);
    raw = npy_ok(FIX "empty.npy");
    t = tensor_ok(&raw);
    assert_dims(&t, 1, 0, 0);
    cr_assert_eq(t.count, 0);
    raw = npy_ok(FIX "reordered_keys.npy");
    t = tensor_ok(&raw);
    assert_values(&t, (const float[]){7.0f, -8.0f}, 2);
}

Test(weights_io, npy_integer_bool_complex_are_recognised_but_refused) {
    Tensor t;
    RawTensor raw = npy_ok(FIX "int64.npy");
    cr_assert_eq(raw.dtype, DT_INT);
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "integer tensor (dtype <i8) where float weights are expected");
    raw = npy_ok(FIX "bool.npy");
    cr_assert_eq(raw.dtype, DT_BOOL);
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "boolean tensor (dtype |b1) where float weights are expected");
    raw = npy_ok(FIX "complex.npy");
    cr_assert_eq(raw.dtype, DT_OTHER);
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype <c8 (expected float16, bfloat16, float32 or float64)");
}

Test(weights_io, npy_malformed_files) {
    assert_npy_error(FIX "bad_magic.npy", "not a .npy file (bad magic)");
    assert_npy_error(FIX "truncated_header.npy", "truncated header: says 118 bytes, file has 30");
    assert_npy_error(FIX "truncated_data.npy", "truncated: header says 24 bytes of data, file has 20");
    assert_npy_error(FIX "trailing_data.npy", "4 unexpected bytes after the data");
    assert_npy_error(FIX "bad_version.npy", "unsupported .npy version 4.0 (expected 1, 2 or 3)");
    assert_npy_error(FIX "huge_shape.npy", "truncated: header says 40000000000 bytes of data, file has 12");
    assert_npy_error(FIX "overflow_shape.npy",
                     "shape (1000000000000, 1000000000000, 1000000000000) is too large");
    assert_npy_error(FIX "unknown_dtype.npy", "unknown dtype '<x4'");
    assert_npy_error(FIX "missing_key.npy", "bad .npy header: missing key (needs descr, fortran_order, shape)");
    assert_npy_error(FIX "duplicate_key.npy", "bad .npy header: duplicate key");
    assert_npy_error(FIX "no_such_file.npy", "cannot read 'fixtures/weights/no_such_file.npy': No such file or directory");
}

static void assert_npy_buffer_error(const char *bytes, size_t len, const char *want) {
    RawTensor raw;
    cr_assert_not(npy_parse((const unsigned char *)bytes, len, &raw, err, sizeof err));
    cr_assert_str_eq(err, want);
}

/* A version-1 file with the given header text and no data. */
static void assert_npy_header_error(const char *header, const char *want) {
    char buf[256];
    size_t n = strlen(header);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)n;
    buf[9] = 0;
    memcpy(buf + 10, header, n);
    assert_npy_buffer_error(buf, 10 + n, want);
}

Test(weights_io, npy_hostile_headers) {
    assert_npy_buffer_error("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12, "truncated header: says 4294967295 bytes, file has 0");
    assert_npy_buffer_error("\x93NUMPY\x02\x00\xff", 9, "truncated: file ends inside the .npy preamble");
    assert_npy_buffer_error("\x93NUM", 4, "not a .npy file (bad magic)");
    assert_npy_header_error("{'descr': [('a', '<f4'), ('b)', '<i4', (2,)], 'fortran_order': False, 'shape': ()}",
                            "bad .npy header: unterminated structured dtype");
    assert_npy_header_error("{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}",
                            "bad .npy header: fortran_order must be True or False");
    assert_npy_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                            "bad .npy header: shape entries must be non-negative integers");
    assert_npy_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}",
                            "bad .npy header: more than 8 dimensions");
    assert_npy_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
                            "bad .npy header: unknown key (expected descr, fortran_order, shape)");
    assert_npy_header_error("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x",
                            "bad .npy header: text after the closing '}'");
    assert_npy_header_error("{'descr': '<f4", "bad .npy header: unterminated or escaped string");
}

/* A version-1 file with the given header text and NDATA zero bytes. */
static RawTensor npy_with_header(const char *header, size_t ndata) {
    static char buf[1024];
    size_t n = strlen(header);
    cr_assert(10 + n + ndata <= sizeof buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)n;
    buf[9] = 0;
    memcpy(buf + 10, header, n);
    memset(buf + 10 + n, 0, ndata);
    RawTensor raw;
    cr_assert(npy_parse((const unsigned char *)buf, 10 + n + ndata, &raw, err, sizeof err), "%s: %s", header, err);
    return raw;
}

/* np.savez(..., classes=np.array(['cat', 'dog'])) next to the weights: string
 * and datetime members parse (a 'U' item is 4 bytes per character, a
 * datetime descr has a unit), so the bundle loads and they are ignored. */
Test(weights_io, npy_string_and_datetime_members_parse) {
    RawTensor raw = npy_with_header("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24);
    cr_assert_eq(raw.dtype, DT_OTHER);
    raw = npy_with_header("{'descr': '<U100', 'fortran_order': False, 'shape': (1,), }", 400);
    cr_assert_eq(raw.dtype, DT_OTHER);
    raw = npy_with_header("{'descr': '|S5', 'fortran_order': False, 'shape': (2,), }", 10);
    cr_assert_eq(raw.dtype, DT_OTHER);
    raw = npy_with_header("{'descr': '<M8[D]', 'fortran_order': False, 'shape': (1,), }", 8);
    cr_assert_eq(raw.dtype, DT_OTHER);
    Tensor t;
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype <M8[D] (expected float16, bfloat16, float32 or float64)");
}

/* Pickled objects and structured dtypes parse too (their data is not
 * sized: pickles have no fixed item size), and are refused where used. */
Test(weights_io, npy_object_and_structured_members_parse) {
    RawTensor raw = npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 37);
    cr_assert_eq(raw.dtype, DT_OTHER);
    Tensor t;
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype |O (expected float16, bfloat16, float32 or float64)");
    raw = npy_with_header("{'descr': [('x', '<f4'), ('n]\\'', [('a', '<i4')], (2,))], 'fortran_order': False, "
                          "'shape': (3,), }", 5);
    cr_assert_eq(raw.dtype, DT_OTHER);
    cr_assert_eq(raw.ndims, 1);
    cr_assert_eq(raw.dims[0], 3);
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype structured (expected float16, bfloat16, float32 or float64)");
}

Test(weights_io, raw_to_tensor_checks_size_against_shape) {
    static const unsigned char bytes[20] = {0};
    RawTensor raw = {.dtype = DT_F32, .dtype_name = "<f4", .ndims = 2, .dims = {2, 3}, .bytes = bytes, .nbytes = 20};
    Tensor t;
    cr_assert_not(raw_to_tensor(&raw, &t, err, sizeof err));
    cr_assert_str_eq(err, "shape (2, 3) of <f4 does not match 20 bytes of data");
    raw.dtype = DT_BF16;
    raw.dtype_name = "BF16";
    raw.ndims = 1;
    raw.dims[0] = 10;
    t = tensor_ok(&raw);
    cr_assert_eq(t.count, 10);
}

/* ----------------------------------------------------------------- .npz */

static Bundle bundle_ok(const char *path) {
    Bundle b;
    bool ok = bundle_load(path, &b, err, sizeof err);
    cr_assert(ok, "%s: %s", path, err);
    cr_assert_str_eq(b.path, path);
    return b;
}

static Tensor bundle_tensor(const Bundle *b, const char *name) {
    const RawTensor *raw = bundle_find(b, name);
    cr_assert_not_null(raw, "no tensor %s", name);
    cr_assert_str_eq(raw->name, name);
    return tensor_ok(raw);
}

static void assert_npz_contents(const char *path) {
    Bundle b = bundle_ok(path);
    cr_assert_eq(b.count, 4, "%s: %d tensors", path, b.count);
    Tensor w = bundle_tensor(&b, "conv1.weight");
    assert_dims(&w, 2, 2, 3);
    assert_values(&w, SIX, 6);
    Tensor bias = bundle_tensor(&b, "conv1.bias");
    assert_values(&bias, (const float[]){0.25f, -0.75f, 2.0f}, 3);
    Tensor half = bundle_tensor(&b, "half");
    assert_values(&half, (const float[]){1.0f, -0.5f}, 2);
    const RawTensor *steps = bundle_find(&b, "steps");
    cr_assert_not_null(steps);
    cr_assert_eq(steps->dtype, DT_INT);
    cr_assert_eq(steps->ndims, 0);
    cr_assert_null(bundle_find(&b, "conv1.weight.npy"));
    cr_assert_null(bundle_find(&b, "missing"));
}

Test(weights_io, npz_stored_deflated_streamed_and_zip64) {
    assert_npz_contents(FIX "savez.npz");
    assert_npz_contents(FIX "savez_stream.npz");
    assert_npz_contents(FIX "savez_compressed.npz");
    assert_npz_contents(FIX "zip64.npz");
}

/* np.savez with class names as a Python list (object dtype) and a record
 * array next to the weights: the bundle loads and the float tensor reads. */
Test(weights_io, npz_with_object_and_structured_members_loads) {
    Bundle b = bundle_ok(FIX "savez_extras.npz");
    cr_assert_eq(b.count, 3);
    Tensor w = bundle_tensor(&b, "w");
    assert_values(&w, SIX, 6);
    cr_assert_eq(bundle_find(&b, "classes")->dtype, DT_OTHER);
    cr_assert_eq(bundle_find(&b, "points")->dtype, DT_OTHER);
    Tensor t;
    cr_assert_not(raw_to_tensor(bundle_find(&b, "classes"), &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype |O (expected float16, bfloat16, float32 or float64)");
}

static void assert_bundle_error(const char *path, const char *want) {
    Bundle b;
    cr_assert_not(bundle_load(path, &b, err, sizeof err), "%s loaded", path);
    cr_assert_str_eq(err, want);
}

Test(weights_io, npz_bad_crc) {
    size_t len;
    char *payload = read_whole_file(FIX "f4_v1.npy", &len);
    cr_assert_not_null(payload);
    unsigned long crc = crc32(0, (const unsigned char *)payload, (uInt)len);
    char want[128];
    snprintf(want, sizeof want, "member 'w.npy': CRC mismatch (stored %08lx, computed %08lx)", crc ^ 1, crc);
    assert_bundle_error(FIX "bad_crc.npz", want);
}

Test(weights_io, npz_malformed_files) {
    assert_bundle_error(FIX "implausible_size.npz", "member 'w.npy': declared uncompressed size is implausible");
    assert_bundle_error(FIX "bad_member.npz", "member 'w.npy': truncated: header says 24 bytes of data, file has 20");
    assert_bundle_error(FIX "unsupported_method.npz",
                        "member 'w.npy': compression method 12 not supported (only stored or deflated)");
    assert_bundle_error(FIX "truncated.npz", "not a zip archive (no end of central directory)");
    assert_bundle_error(FIX "model.h5", "'fixtures/weights/model.h5' is not a weights bundle: expected a .npz or .safetensors file");
    assert_bundle_error(FIX "absent.npz", "cannot read 'fixtures/weights/absent.npz': No such file or directory");
}

/* An end-of-directory record claiming a directory far outside the buffer. */
Test(weights_io, npz_hostile_directory) {
    unsigned char eocd[22] = {0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0, 46, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0};
    Bundle b;
    cr_assert_not(npz_parse(eocd, sizeof eocd, &b, err, sizeof err));
    cr_assert_str_eq(err, "bad zip: central directory lies outside the file");
    eocd[12] = 0xff, eocd[13] = 0xff, eocd[14] = 0xff, eocd[15] = 0xff;
    cr_assert_not(npz_parse(eocd, sizeof eocd, &b, err, sizeof err));
    cr_assert_str_eq(err, "bad zip: saturated directory fields but no zip64 locator");
}

/* --------------------------------------------------------- safetensors */

Test(weights_io, safetensors_every_dtype) {
    Bundle b = bundle_ok(FIX "model.safetensors");
    cr_assert_eq(b.count, 7);
    cr_assert_null(bundle_find(&b, "__metadata__"));
    Tensor w = bundle_tensor(&b, "conv1.weight");
    assert_dims(&w, 2, 2, 3);
    assert_values(&w, SIX, 6);
    Tensor bias = bundle_tensor(&b, "conv1.bias");
    cr_assert_eq(bundle_find(&b, "conv1.bias")->dtype, DT_F16);
    assert_values(&bias, (const float[]){0.5f, -1.0f, 3.0f}, 3);
    Tensor var = bundle_tensor(&b, "bn.running_var");
    cr_assert_eq(bundle_find(&b, "bn.running_var")->dtype, DT_BF16);
    assert_values(&var, (const float[]){1.0f, -2.5f}, 2);
    Tensor d = bundle_tensor(&b, "d.weight");
    assert_values(&d, (const float[]){1.0f, 2.0f, 3.0f, 4.0f}, 4);
    cr_assert_eq(bundle_find(&b, "steps")->dtype, DT_INT);
    cr_assert_eq(bundle_find(&b, "steps")->ndims, 0);
    cr_assert_eq(bundle_find(&b, "mask")->dtype, DT_BOOL);
    Tensor uni = bundle_tensor(&b, "caf\xc3\xa9\xf0\x9f\x98\x80");
    assert_values(&uni, (const float[]){9.0f}, 1);
}

Test(weights_io, safetensors_malformed_files) {
    assert_bundle_error(FIX "st_truncated_header.safetensors", "truncated header: says 1000 bytes, file has 50");
    assert_bundle_error(FIX "st_short.safetensors", "truncated: 3 bytes, a safetensors file starts with an 8-byte length");
    assert_bundle_error(FIX "st_bad_json.safetensors", "bad JSON header: expected ',' or '}' at byte 40");
    assert_bundle_error(FIX "st_unknown_dtype.safetensors", "tensor 'w': unknown dtype 'F7'");
    assert_bundle_error(FIX "st_overrun.safetensors", "tensor 'w': data_offsets [0, 400] outside the 8 bytes of data");
    assert_bundle_error(FIX "st_shape_mismatch.safetensors",
                        "tensor 'w': shape [3] of F32 needs 12 bytes, data_offsets give 8");
    assert_bundle_error(FIX "st_huge_shape.safetensors",
                        "tensor 'w': shape [1099511627776, 1099511627776] is too large");
    assert_bundle_error(FIX "st_duplicate.safetensors", "tensor 'w' appears twice");
    assert_bundle_error(FIX "st_deep.safetensors", "bad JSON header: nesting too deep at byte 81");
}

static void assert_st_header_error(const char *json, const char *want) {
    unsigned char buf[512];
    size_t n = strlen(json);
    memset(buf, 0, 8);
    buf[0] = (unsigned char)n;
    memcpy(buf + 8, json, n);
    Bundle b;
    cr_assert_not(safetensors_parse(buf, 8 + n, &b, err, sizeof err), "%s parsed", json);
    cr_assert_str_eq(err, want);
}

Test(weights_io, safetensors_strict_json) {
    assert_st_header_error("{\"a\\q\": 1}", "bad JSON header: bad escape in string at byte 5");
    assert_st_header_error("{\"\\ud800\": 1}", "bad JSON header: high surrogate without its pair at byte 8");
    assert_st_header_error("{\"w\": {\"dtype\": \"F32\", \"shape\": [01], \"data_offsets\": [0, 0]}}",
                           "bad JSON header: leading zero in integer at byte 33");
    assert_st_header_error("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5]}}", "bad JSON header: expected an integer at byte 34");
    assert_st_header_error("{\"w\": {\"dtype\": \"F32\", \"shape\": []}}",
                           "bad JSON header: tensor entry needs dtype, shape and data_offsets at byte 35");
    assert_st_header_error("{\"__metadata__\": {\"k\": tru}}", "bad JSON header: unexpected character at byte 23");
    assert_st_header_error("{} {}", "bad JSON header: text after the header object at byte 3");
    assert_st_header_error("{\"__metadata__\": {\"a\": \"x\ty\"}}",
                           "bad JSON header: control character in string at byte 26");
}

/* Newer safetensors dtypes load (an unused tensor must not spoil the bundle,
 * SPEC 1.2) and are refused only when a layer asks for them. */
Test(weights_io, safetensors_newer_dtypes_are_known_but_refused) {
    static const char json[] = "{\"z\": {\"dtype\": \"C64\", \"shape\": [1], \"data_offsets\": [0, 8]}, "
                               "\"e\": {\"dtype\": \"F8_E8M0\", \"shape\": [2], \"data_offsets\": [8, 10]}}";
    unsigned char buf[8 + sizeof json + 16] = {0};
    size_t n = sizeof json - 1;
    buf[0] = (unsigned char)n;
    memcpy(buf + 8, json, n);
    Bundle b;
    cr_assert(safetensors_parse(buf, 8 + n + 10, &b, err, sizeof err), "%s", err);
    cr_assert_eq(bundle_find(&b, "z")->dtype, DT_OTHER);
    cr_assert_eq(bundle_find(&b, "e")->dtype, DT_OTHER);
    Tensor t;
    cr_assert_not(raw_to_tensor(bundle_find(&b, "z"), &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype C64 (expected float16, bfloat16, float32 or float64)");
}

/* A safetensors buffer: the JSON header, then NDATA zero bytes. */
static bool st_parse_with_data(const char *json, size_t ndata, Bundle *b) {
    static unsigned char buf[1024];
    size_t n = strlen(json);
    cr_assert(8 + n + ndata <= sizeof buf);
    memset(buf, 0, sizeof buf);
    buf[0] = (unsigned char)n;
    memcpy(buf + 8, json, n);
    return safetensors_parse(buf, 8 + n + ndata, b, err, sizeof err);
}

/* The sub-byte floats (F4, F6_*) pack elements into whole bytes, as the
 * safetensors library checks; they are refused where used. */
Test(weights_io, safetensors_sub_byte_dtypes) {
    Bundle b;
    cr_assert(st_parse_with_data("{\"f4\": {\"dtype\": \"F4\", \"shape\": [2, 3], \"data_offsets\": [0, 3]}, "
                                 "\"f6\": {\"dtype\": \"F6_E2M3\", \"shape\": [4], \"data_offsets\": [3, 6]}}",
                                 6, &b),
              "%s", err);
    cr_assert_eq(bundle_find(&b, "f4")->dtype, DT_OTHER);
    cr_assert_eq(bundle_find(&b, "f6")->nbytes, 3);
    Tensor t;
    cr_assert_not(raw_to_tensor(bundle_find(&b, "f4"), &t, err, sizeof err));
    cr_assert_str_eq(err, "unsupported dtype F4 (expected float16, bfloat16, float32 or float64)");
    cr_assert_not(st_parse_with_data(
        "{\"x\": {\"dtype\": \"F6_E3M2\", \"shape\": [3], \"data_offsets\": [0, 3]}}", 3, &b));
    cr_assert_str_eq(err, "tensor 'x': shape [3] of F6_E3M2 is 18 bits, not whole bytes");
    cr_assert_not(st_parse_with_data(
        "{\"x\": {\"dtype\": \"F4\", \"shape\": [3, 2], \"data_offsets\": [0, 6]}}", 6, &b));
    cr_assert_str_eq(err, "tensor 'x': shape [3, 2] of F4 needs 3 bytes, data_offsets give 6");
}

Test(weights_io, safetensors_empty_header_and_metadata_only) {
    unsigned char buf[] = "\x02\0\0\0\0\0\0\0{}";
    Bundle b;
    cr_assert(safetensors_parse(buf, 10, &b, err, sizeof err), "%s", err);
    cr_assert_eq(b.count, 0);
    unsigned char meta[] = "\x1e\0\0\0\0\0\0\0{\"__metadata__\": {\"a\": [1e5]}}";
    cr_assert(safetensors_parse(meta, 8 + 30, &b, err, sizeof err), "%s", err);
    cr_assert_eq(b.count, 0);
}
