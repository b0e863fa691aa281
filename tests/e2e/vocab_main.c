/* vocab_main.c — prints every helper of cnnc's SIMD vocabulary on awkward
 * inputs, one result per line, as bit patterns (any NaN prints as "nan":
 * payloads differ between ISAs and nothing relies on them).
 *
 * test_simd.c builds it twice for one ISA — with the real runtime header and
 * its -m flags, and with tests/emu first on the include path and no flags —
 * and requires identical output: the emulation must agree bit for bit with
 * the instructions it stands in for, on a machine that has them.
 * Inputs: NaN in either operand, ±inf, ±0, ties for round-to-even, values
 * outside int32 for pow2i's conversion, exp/tanh/sigmoid on a sweep.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include CNNC_VOCAB_HEADER

#define N 64   /* a multiple of every lane count, and room for the tails */

static float in_a[N], in_b[N], in_c[N];

static void print_float(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if (isnan(x))
        puts("nan");
    else
        printf("%08x\n", (unsigned)bits);
}

static void print_vector(const char *what, cnnc_v v) {
    float t[CNNC_LANES];
    cnnc_vstore(t, v);
    printf("%s\n", what);
    for (int i = 0; i < CNNC_LANES; i++)
        print_float(t[i]);
}

/* Awkward values first, then a deterministic sweep over [-120, 120]. */
static void fill_inputs(void) {
    static const float special[] = {NAN, 1.0f, -INFINITY, INFINITY, -0.0f, 0.0f, 2.5f, -2.5f,
                                    3.5f, 0.5f, -0.5f, 3e9f, -3e9f, 1e-40f, 88.7f, -103.9f};
    int ns = (int)(sizeof special / sizeof special[0]);
    for (int i = 0; i < N; i++) {
        float sweep = (float)((i * 37) % N) * 3.75f - 120.0f;
        in_a[i] = i < ns ? special[i] : sweep;
        in_b[i] = i < ns ? special[(i + 1) % ns] : -sweep * 0.5f;   /* NaN in b too */
        in_c[i] = (float)(i % 7) * 0.3125f - 1.0f;
    }
}

/* Binary and ternary helpers on lanes [i, i+L). */
static void check_arith(int i) {
    cnnc_v a = cnnc_vload(in_a + i), b = cnnc_vload(in_b + i), c = cnnc_vload(in_c + i);
    print_vector("fma", cnnc_vfma(a, c, b));
    print_vector("add", cnnc_vadd(a, b));
    print_vector("sub", cnnc_vsub(a, b));
    print_vector("mul", cnnc_vmul(a, c));
    print_vector("div", cnnc_vdiv(c, a));
    print_vector("max", cnnc_vmax(a, b));
    print_vector("max_ba", cnnc_vmax(b, a));
    print_vector("min", cnnc_vmin(a, b));
    print_vector("maxnan", cnnc_vmaxnan(a, b));
    print_vector("maxnan_ba", cnnc_vmaxnan(b, a));
    print_vector("sel_lt", cnnc_vsel_lt(a, b, c, a));
    print_vector("copysign", cnnc_vcopysign(c, a));
    print_vector("even", cnnc_veven(a, b));
    print_vector("odd", cnnc_vodd(a, b));
    printf("hsum\n");
    print_float(cnnc_vhsum(cnnc_vmul(c, cnnc_vbcast(1.0f / 3.0f))));
}

/* Unary helpers and the math built on them. */
static void check_unary(int i) {
    cnnc_v a = cnnc_vload(in_a + i), c = cnnc_vload(in_c + i);
    print_vector("round", cnnc_vround(a));
    print_vector("round_c", cnnc_vround(cnnc_vmul(c, cnnc_vbcast(4.0f))));
    print_vector("pow2i", cnnc_vpow2i(cnnc_vround(cnnc_vmul(a, cnnc_vbcast(0.5f)))));
    print_vector("pow2i_raw", cnnc_vpow2i(a));   /* ties, NaN, out of int32 */
    print_vector("abs", cnnc_vabs(a));
    print_vector("exp", cnnc_vexp(a));
    print_vector("exp_c", cnnc_vexp(c));
    print_vector("tanh", cnnc_vtanh(cnnc_vmul(a, cnnc_vbcast(0.125f))));
    print_vector("sigmoid", cnnc_vsigmoid(cnnc_vmul(a, cnnc_vbcast(0.25f))));
    print_vector("relu", cnnc_vrelu(a));
    print_vector("relu6", cnnc_vrelu6(a));
    print_vector("leaky", cnnc_vleaky_relu(a, 0.01f));
}

/* Every tail length: loaded lanes, zeroed lanes, and a guard float after
 * the stored ones that must stay untouched. */
static void check_tails(void) {
    for (int n = 0; n <= CNNC_LANES; n++) {
        float out[CNNC_LANES + 1];
        for (int i = 0; i <= CNNC_LANES; i++)
            out[i] = -7.0f;
        printf("tail %d\n", n);
        cnnc_vstore_tail(out, cnnc_vload_tail(in_c, n), n);
        for (int i = 0; i <= CNNC_LANES; i++)
            print_float(out[i]);
        print_vector("loaded", cnnc_vload_tail(in_a + 16, n));
    }
}

int main(void) {
    fill_inputs();
    printf("%s %d\n", CNNC_ISA, CNNC_LANES);
    for (int i = 0; i + CNNC_LANES <= N; i += CNNC_LANES) {
        check_arith(i);
        check_unary(i);
    }
    check_tails();
    return 0;
}
