#!/usr/bin/env python3
"""Coefficients of the polynomials in src/pricing/fastmath.rs (mpmath, 60 digits).

Method: interpolation at Chebyshev nodes of the first kind (near-minimax for
these smooth functions), then the maximum error measured on a dense grid.

  exp: e^r = 1 + r + r^2/2 + r^3 * P(r) on |r| <= 0.3467 (ln 2 / 2 plus the
       slack of the rounded reduction); P of degree EXP_DEG, interpolating
       g(r) = (e^r - 1 - r - r^2/2) / r^3.
  ln:  ln(1+f) = f - f^2/2 + s (f^2/2 + z Q(z)), s = f / (2 + f), z = s^2,
       on 0 <= z <= ((sqrt 2 - 1)/(sqrt 2 + 1))^2 (plus slack); Q of degree
       LOG_DEG, interpolating (2 atanh(s)/s - 2) / z = 2 sum_{k>=1} z^(k-1)/(2k+1).
  ln 2 split: LN2_HI = ln 2 rounded to 32 significant bits (in the Rust code,
       the bits of f64 LN_2 with the low 21 cleared), LN2_LO = ln 2 - LN2_HI
       rounded to double.

Also writes norm_cdf_mpmath.csv (x, N(x) at 921 points on [-38, 8]).

Run: python3 tests/reference/fastmath_coefficients.py
"""

import mpmath as mp

mp.mp.dps = 60
EXP_DEG = 9
LOG_DEG = 6


def cheb_fit(f, a, b, deg):
    """Monomial coefficients (ascending) of the polynomial interpolating f at
    the deg+1 Chebyshev nodes of [a, b]."""
    n = deg + 1
    xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * n)) for k in range(n)]
    A = mp.matrix([[x ** j for j in range(n)] for x in xs])
    y = mp.matrix([f(x) for x in xs])
    return list(mp.lu_solve(A, y))


def as_double(c):
    return float(c)


def main():
    r_max = mp.mpf("0.3467")

    def g(r):
        if abs(r) < mp.mpf("1e-20"):
            return mp.mpf(1) / 6
        return (mp.exp(r) - 1 - r - r * r / 2) / r ** 3

    p = [as_double(c) for c in cheb_fit(g, -r_max, r_max, EXP_DEG)]
    worst = 0
    for i in range(2001):
        r = -r_max + 2 * r_max * i / 2000
        approx = 1 + r + r * r / 2 + r ** 3 * mp.polyval(list(reversed([mp.mpf(c) for c in p])), r)
        worst = max(worst, abs(approx / mp.exp(r) - 1))
    print(f"exp: P coefficients (r^3 .. r^{EXP_DEG + 3}), max relative error {mp.nstr(worst, 3)}")
    for c in p:
        print(f"    {c!r},")

    z_max = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2 * mp.mpf("1.0001")

    def q(z):
        if z < mp.mpf("1e-30"):
            return mp.mpf(2) / 3
        s = mp.sqrt(z)
        return (2 * mp.atanh(s) / s - 2) / z

    c = [as_double(x) for x in cheb_fit(q, mp.mpf(0), z_max, LOG_DEG)]
    worst = 0
    for i in range(2001):
        z = z_max * i / 2000
        approx = mp.polyval(list(reversed([mp.mpf(x) for x in c])), z)
        s = mp.sqrt(z)
        # Error of s*z*Q relative to ln(1+f) ~ 2s.
        worst = max(worst, abs((approx - q(z)) * z / 2))
    print(f"ln: Q coefficients (z^0 .. z^{LOG_DEG}), max error relative to ln(1+f) {mp.nstr(worst, 3)}")
    for x in c:
        print(f"    {x!r},")

    ln2 = mp.log(2)
    import struct
    bits = struct.unpack("<Q", struct.pack("<d", float(ln2)))[0] & 0xFFFF_FFFF_FFE0_0000
    hi = mp.mpf(struct.unpack("<d", struct.pack("<Q", bits))[0])
    print(f"LN2_HI = {float(hi)!r}, LN2_LO = {float(ln2 - hi)!r}")

    # The normal CDF table the tests of fastmath::norm_cdf read.
    here = __import__("pathlib").Path(__file__).parent
    with open(here / "norm_cdf_mpmath.csv", "w") as out:
        out.write("x,n\n")
        for i in range(921):
            x = -38.0 + i * 0.05
            out.write(f"{x!r},{float(mp.ncdf(mp.mpf(x)))!r}\n")


if __name__ == "__main__":
    main()
