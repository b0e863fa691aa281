#!/usr/bin/env python3
"""winograd_matrices.py — the Winograd F(m x m, r x r) tables of
compiler/ops/conv_winograd.c, derived with exact rationals.

Method (Cook-Toom, as Lavin & Gray 2016 and wincnn): choose alpha - 1 finite
interpolation points p_j plus the point at infinity, alpha = m + r - 1.
A 1-D correlation y_i = sum_k g_k d_(i+k) (i < m, k < r) is then
    y = A^T [ (G g) ⊙ (B^T d) ]
with
    A^T[i][j] = p_j^i                     (the ∞ column: 1 in row m-1 only)
    G[j][k]   = p_j^k / N_j,  N_j = prod_(l != j) (p_j - p_l)
                                          (the ∞ row: 1 in column r-1 only)
    B^T[j]    = the coefficients, lowest power first, of
                prod_(l != j) (x - p_l) over the finite points
                                          (the ∞ row: of prod_l (x - p_l)).
B^T depends only on the points (and alpha), not on how alpha splits into m
and r: F(4x4,3x3) and F(2x2,5x5) share one 6x6 B^T.  The 2-D form nests the
1-D one: Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A.

Run it to print the C tables (double initialisers) of every variant; it
first checks the bilinear identity exactly — every coefficient of
A^T diag(G g) B^T d equals the correlation's, for symbolic g and d, i.e.
sum_j A^T[i][j] G[j][k] B^T[j][l] == (l == i + k) — and stops if it fails.

    /usr/bin/python3 scripts/winograd_matrices.py            # the C tables
    /usr/bin/python3 scripts/winograd_matrices.py --simulate # float32 error

--simulate measures each variant's float32 error as docs/decisions/
winograd.md reports it: a 64-channel layer's tiles computed with numpy in
float32 (U rounded once from double, B^T d B, the channel sums and A^T M A
in float32) against float64, inputs uniform in [-1, 1) and weights scaled
so outputs are O(1).
"""
import sys
from fractions import Fraction as Q

HALF = Q(1, 2)
# Points in the order of the tables' rows (∞ is last, implicit).
POINTS6 = [Q(0), Q(1), Q(-1), HALF, Q(-2)]
POINTS8 = [Q(0), Q(1), Q(-1), HALF, Q(-2), Q(-1, 2), Q(2)]
# (m, r, finite points).  F(6x6,3x3) is derived and measured but not in the
# kernel: no faster than F(4x4,3x3) on the models (docs/decisions/winograd.md).
VARIANTS = [
    (4, 3, POINTS6),
    (2, 5, POINTS6),
    (6, 3, POINTS8),
    (4, 5, POINTS8),
]


def poly_from_roots(roots):
    """Coefficients, lowest power first, of prod (x - root)."""
    coef = [Q(1)]
    for root in roots:
        shifted = [Q(0)] + coef             # x * coef
        for i, c in enumerate(coef):
            shifted[i] -= root * c
        coef = shifted
    return coef


def matrices(m, r, points):
    alpha = m + r - 1
    assert len(points) == alpha - 1, "alpha - 1 finite points"
    at = [[p ** i for p in points] + [Q(int(i == m - 1))] for i in range(m)]
    g = []
    for j, p in enumerate(points):
        norm = Q(1)
        for l, q in enumerate(points):
            if l != j:
                norm *= p - q
        g.append([p ** k / norm for k in range(r)])
    g.append([Q(int(k == r - 1)) for k in range(r)])
    bt = []
    for j in range(alpha - 1):
        row = poly_from_roots([q for l, q in enumerate(points) if l != j])
        bt.append(row + [Q(0)] * (alpha - len(row)))
    bt.append(poly_from_roots(points))
    return at, g, bt


def check_identity(m, r, at, g, bt):
    """sum_j A^T[i][j] G[j][k] B^T[j][l] == [l == i + k] for all i, k, l."""
    alpha = m + r - 1
    for i in range(m):
        for k in range(r):
            for l in range(alpha):
                s = sum(at[i][j] * g[j][k] * bt[j][l] for j in range(alpha))
                if s != (1 if l == i + k else 0):
                    sys.exit(f"F({m}x{m},{r}x{r}): identity fails at i={i} k={k} l={l}: {s}")


def c_number(q):
    """A C double initialiser: decimal when exact in binary, else a quotient."""
    den = q.denominator
    if den & (den - 1) == 0:
        text = repr(float(q))
        return text[:-2] if text.endswith(".0") else text
    return f"{q.numerator}.0 / {den}"


def c_rows(rows):
    return "{" + ", ".join("{" + ", ".join(c_number(x) for x in row) + "}" for row in rows) + "}"


def print_tables():
    for m, r, points in VARIANTS:
        at, g, bt = matrices(m, r, points)
        check_identity(m, r, at, g, bt)
        names = ", ".join(str(p) for p in points) + ", inf"
        print(f"/* F({m}x{m},{r}x{r}), points {names}: identity checked */")
        print(f"    .bt = {c_rows(bt)},")
        print(f"    .g = {c_rows(g)},")
        print(f"    .at = {c_rows(at)},")


def simulate(m, r, points, channels=64, tiles=200, seed=1):
    """Worst and mean |error| of float32 Winograd tiles against float64."""
    import numpy as np
    at, g, bt = (np.array([[float(x) for x in row] for row in t]) for t in matrices(m, r, points))
    rng = np.random.default_rng(seed)
    alpha = m + r - 1
    d = rng.uniform(-1, 1, (tiles, channels, alpha, alpha))
    w = rng.uniform(-1, 1, (channels, r, r)) * (2.0 / np.sqrt(r * r * channels))
    exact = np.zeros((tiles, m, m))
    for i in range(m):
        for j in range(m):
            exact[:, i, j] = np.einsum("tcab,cab->t", d[:, :, i:i + r, j:j + r], w)
    u = np.einsum("ja,cab,kb->cjk", g, w, g).astype(np.float32)
    d32, bt32, at32 = d.astype(np.float32), bt.astype(np.float32), at.astype(np.float32)
    v = np.einsum("ja,tcab,kb->tcjk", bt32, d32, bt32, dtype=np.float32)
    mm = np.einsum("tcjk,cjk->tjk", v, u, dtype=np.float32)
    y = np.einsum("ij,tjk,lk->til", at32, mm, at32, dtype=np.float32)
    err = np.abs(y.astype(np.float64) - exact)
    return err.max(), err.mean()


def print_simulation():
    print("variant            worst     mean   (float32 vs float64, 64 channels)")
    for m, r, points in VARIANTS:
        worst, mean = simulate(m, r, points)
        print(f"F({m}x{m},{r}x{r})       {worst:.2e}  {mean:.2e}")


if __name__ == "__main__":
    if "--simulate" in sys.argv[1:]:
        print_simulation()
    else:
        print_tables()
