/* ops/lincomb.c — a small constant matrix times a vector of SIMD terms, as
 * straight-line vector code with the pairs of terms that several rows share
 * computed once (the Winograd transforms, conv_winograd.c).
 *
 * Method: the classic greedy common-pair elimination for constant matrix
 * products.  A candidate is an ordered pair of terms (k, l) and a ratio ρ, a
 * power of two so that c·(x_k + ρ·x_l) has exactly the coefficients c and
 * c·ρ of the rows it replaces; every row holding both terms in that ratio
 * can read one temporary t = x_k + ρ·x_l instead, one operation less each.
 * The candidate that saves the most operations (counting the temporary's
 * own, and the multiply a row needs when no coefficient of it is 1) is
 * taken, until none saves any.  F(4x4,3x3)'s B^T goes from 20 to 16
 * operations per 1-D transform and A^T from 14 to 12.  The rows' sums are
 * regrouped, so the rounding differs from the plain sums by an ulp or so;
 * the coefficients themselves stay exact. */
#include "simd.h"

#include <math.h>
#include <string.h>

#define MAX_TERMS (LINCOMB_MAX_N + 24)

typedef struct Combos {
    double coef[LINCOMB_MAX_ROWS][MAX_TERMS];
    const char *term[MAX_TERMS];
    int rows, terms;
} Combos;

/* "1.5f", "-2.0f": the coefficients are exact in float. */
static const char *coef_literal(double c) {
    const char *s = arena_printf("%.9g", c);
    return arena_printf("%s%sf", s, strpbrk(s, ".e") ? "" : ".0");
}

/* Operations of one row as `combination` emits it: one per term after the
 * first, and a multiply when no coefficient is 1. */
static int row_ops(const double *coef, int n) {
    int count = 0;
    bool has_one = false;
    for (int k = 0; k < n; k++)
        if (coef[k] != 0) {
            count++;
            has_one |= coef[k] == 1;
        }
    return count == 0 ? 0 : count - 1 + !has_one;
}

static bool power_of_two(double x) {
    int exp;
    return x != 0 && fabs(frexp(x, &exp)) == 0.5;
}

/* Does row r hold x_k and x_l in the ratio rho? */
static bool row_matches(const Combos *c, int r, int k, int l, double rho) {
    return c->coef[r][k] != 0 && c->coef[r][l] != 0 && c->coef[r][l] == rho * c->coef[r][k];
}

/* Operations saved by the temporary x_k + rho·x_l (negative: a loss). */
static int pair_saving(const Combos *c, int k, int l, double rho) {
    int saved = -1;
    double row[MAX_TERMS];
    for (int r = 0; r < c->rows; r++) {
        if (!row_matches(c, r, k, l, rho))
            continue;
        memcpy(row, c->coef[r], sizeof row);
        row[c->terms] = row[k];
        row[k] = row[l] = 0;
        saved += row_ops(c->coef[r], c->terms) - row_ops(row, c->terms + 1);
    }
    return saved;
}

/* The best candidate over every ordered pair and every ratio some row has;
 * false when none saves an operation. */
static bool best_pair(const Combos *c, int *k, int *l, double *rho) {
    int best = 0;
    for (int a = 0; a < c->terms; a++)
        for (int b = 0; b < c->terms; b++)
            for (int r = 0; r < c->rows; r++) {
                if (a == b || c->coef[r][a] == 0 || c->coef[r][b] == 0)
                    continue;
                double ratio = c->coef[r][b] / c->coef[r][a];
                int saving = power_of_two(ratio) ? pair_saving(c, a, b, ratio) : 0;
                if (saving > best)
                    best = saving, *k = a, *l = b, *rho = ratio;
            }
    return best > 0;
}

/* sum_k coef[k]·term[k] as one vector expression; NULL when every term is
 * zero.  A term with coefficient 1 goes first, so it needs no multiply. */
static const char *combination(const double *coef, const char *const *term, int n) {
    int first = -1;
    for (int k = 0; k < n; k++)
        if (coef[k] != 0 && (first < 0 || (coef[k] == 1 && coef[first] != 1)))
            first = k;
    if (first < 0)
        return NULL;
    const char *acc = coef[first] == 1 ? term[first]
                                       : arena_printf("cnnc_vmul(cnnc_vbcast(%s), %s)", coef_literal(coef[first]),
                                                      term[first]);
    for (int k = 0; k < n; k++) {
        if (k == first || coef[k] == 0)
            continue;
        if (coef[k] == 1 || coef[k] == -1)
            acc = arena_printf("cnnc_v%s(%s, %s)", coef[k] == 1 ? "add" : "sub", acc, term[k]);
        else
            acc = arena_printf("cnnc_vfma(cnnc_vbcast(%s), %s, %s)", coef_literal(coef[k]), term[k], acc);
    }
    return acc;
}

/* Emits t = x_k + rho·x_l and rewrites the rows that match to read it. */
static void take_pair(Emitter *e, Combos *c, int k, int l, double rho, const char *prefix) {
    int t = c->terms++;
    double pair[MAX_TERMS] = {0};
    pair[k] = 1;
    pair[l] = rho;
    c->term[t] = arena_printf("%st%d", prefix, t - LINCOMB_MAX_N);
    emit(e, "const cnnc_v %s = %s;\n", c->term[t], combination(pair, c->term, t));
    for (int r = 0; r < c->rows; r++)
        if (row_matches(c, r, k, l, rho)) {
            c->coef[r][t] = c->coef[r][k];
            c->coef[r][k] = c->coef[r][l] = 0;
        }
}

void lincomb_emit(Emitter *e, const double *matrix, int stride, int rows, const char *const *terms, int n,
                  const char *prefix, const char **out) {
    Combos c = {.rows = rows, .terms = LINCOMB_MAX_N};
    for (int k = 0; k < n; k++)
        c.term[k] = terms[k];
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < n; k++)
            c.coef[r][k] = terms[k] ? matrix[r * stride + k] : 0;   /* an absent term is a known zero */
    int k = 0, l = 0;
    double rho = 0;
    while (c.terms < MAX_TERMS && best_pair(&c, &k, &l, &rho))
        take_pair(e, &c, k, l, rho, prefix);
    for (int r = 0; r < rows; r++)
        out[r] = combination(c.coef[r], c.term, c.terms);
}
