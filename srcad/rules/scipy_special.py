"""Reverse and forward rules of ``scipy.special`` (registered only when SciPy imports).

Most of these functions are ufuncs: elementwise, positional-only, and every
binary rule reduces its gradients with ``unbroadcast``.  Parameter names are
SciPy's where the function has a Python signature (``logsumexp``,
``softmax``, ``log_softmax``, ``polygamma``, ``multigammaln``), so keyword
calls bind.  Orders and degrees (``n`` of ``polygamma``, ``v`` of ``jv``) and
the shape parameters of the incomplete gamma and beta functions carry no rule
(``None``): srcad refuses an active value there rather than drop its gradient.

Conventions at points where the derivative does not exist or is not finite:

    primitive          at                 gradient
    -----------------  -----------------  ------------------------------------------
    xlogy, xlog1py     x == 0             0 to y (the function is 0 for every y)
    gammasgn           any                a constant (piecewise constant)
    logsumexp          return_sign=True   refused (UnsupportedArgumentError)
"""

import numpy as np
from scipy import special

from srcad.rules.families import elementwise, family, unary
from srcad.rules.registry import adjoint, computed_by, nondifferentiable, tangent
from srcad.runtime import UnsupportedArgumentError, unbroadcast

TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
HALF_SQRT_PI = np.sqrt(np.pi) / 2.0


# --- helpers the rules call ----------------------------------------------------------

def expanded(value, ndim, axis=None, keepdims=False):
    """``value``, a reduction over ``axis`` of an ``ndim``-d array, with the
    reduced axes put back as length-1 axes so that it broadcasts against the
    array (the reductions' ``keepdims=True`` form)."""
    value = np.asarray(value)
    if keepdims or ndim == 0:
        return value
    if axis is None:
        return np.reshape(value, (1,) * ndim)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    for a in sorted(a % ndim for a in axes):
        value = np.expand_dims(value, a)
    return value


def logsumexp_share(a, ans, axis=None, b=None, keepdims=False, return_sign=False):
    """``exp(a - ans)`` broadcast over the summed elements: the derivative of
    ``log(sum(b * exp(a)))`` w.r.t. ``b`` (times ``b``, w.r.t. ``a``)."""
    if return_sign:
        raise UnsupportedArgumentError(
            "srcad differentiates scipy.special.logsumexp without return_sign: with "
            "return_sign=True it returns a pair",
            hint="differentiate logsumexp(a, b=b) for positive weighted sums, or register "
                 "a rule for a function of your own that returns one value")
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.broadcast_to(np.exp(a - expanded(ans, len(shape), axis, keepdims)), shape)


def weighted(x, w):
    """``x * w``, or ``x`` itself where the weights ``w`` are None (unweighted)."""
    return x if w is None else x * w


# --- log-sum-exp and softmax ----------------------------------------------------------

def logsumexp_float64(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``scipy.special.logsumexp`` of a float64 array, as generated forward
    sweeps compute it: the max-shifted sum in four NumPy calls.  SciPy's own
    goes through its array-API layer and costs several times more on the
    small arrays of a model's inner loop (autograd's own logsumexp is the
    same four calls).  Whatever this does not cover -- weights, signs, other
    dtypes, empty arrays, an infinite or NaN maximum -- is SciPy's."""
    if (b is not None or return_sign or type(a) is not np.ndarray or a.dtype != np.float64
            or a.size == 0):
        return special.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    m = np.max(a, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        return special.logsumexp(a, axis=axis, keepdims=keepdims)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    out += m
    if keepdims:
        return out
    out = np.squeeze(out, axis=axis)
    return out[()] if out.ndim == 0 else out


computed_by(special.logsumexp, logsumexp_float64)


@adjoint(special.logsumexp, logsumexp_float64)
def logsumexp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    """ans = log sum(b exp(a)): d/da = b exp(a - ans), d/db = exp(a - ans)."""
    share = logsumexp_share(a, ans, axis, b, keepdims, return_sign)
    spread = expanded(g, np.ndim(share), axis, keepdims) * share
    return unbroadcast(weighted(spread, b), a), None, unbroadcast(spread, b)


@tangent(special.logsumexp, logsumexp_float64)
def logsumexp_tangent(a_dot, axis_dot, b_dot, ans, a, axis=None, b=None, keepdims=False,
                      return_sign=False):
    share = logsumexp_share(a, ans, axis, b, keepdims, return_sign)
    return (np.sum(weighted(share, b) * a_dot, axis=axis, keepdims=keepdims), None,
            np.sum(weighted(share, b_dot), axis=axis, keepdims=keepdims))


@elementwise(special.softmax)
def softmax(g, ans, x, axis=None):
    """d softmax = s * (dx - sum(s dx)) over ``axis``; the Jacobian is symmetric."""
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


@adjoint(special.log_softmax)
def log_softmax(g, ans, x, axis=None):
    """ans = x - logsumexp(x): d/dx = g - softmax(x) sum(g)."""
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


@tangent(special.log_softmax)
def log_softmax_tangent(x_dot, ans, x, axis=None):
    return x_dot - np.sum(np.exp(ans) * x_dot, axis=axis, keepdims=True)


# --- one-argument functions: the reverse rule, g times the derivative ------------------

unary(globals(), [
    # logistic
    ("expit",       special.expit,      "g * ans * (1.0 - ans)"),
    ("log_expit",   special.log_expit,  "g * special.expit(-x)",
     "d log(expit(x)) = 1 - expit(x) = expit(-x)."),
    ("logit",       special.logit,      "g / (x * (1.0 - x))"),
    # error functions and the normal distribution function
    ("erf",         special.erf,        "g * TWO_OVER_SQRT_PI * np.exp(-x * x)"),
    ("erfc",        special.erfc,       "-g * TWO_OVER_SQRT_PI * np.exp(-x * x)"),
    ("erfinv(y)",   special.erfinv,     "g * HALF_SQRT_PI * np.exp(ans * ans)",
     "The inverse function's derivative: 1 / erf'(ans)."),
    ("erfcinv(y)",  special.erfcinv,    "-g * HALF_SQRT_PI * np.exp(ans * ans)"),
    ("ndtr",        special.ndtr,       "g * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)",
     "The standard normal CDF: its derivative is the density."),
    ("log_ndtr",    special.log_ndtr,   "g * np.exp(-0.5 * x * x - 0.5 * np.log(2.0 * np.pi) - ans)",
     "pdf(x) / cdf(x), computed as exp(log pdf - log cdf) so that it stays finite far left."),
    ("ndtri(y)",    special.ndtri,      "g * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans * ans)"),
    # gamma functions
    ("gamma",       special.gamma,      "g * ans * special.digamma(x)"),
    ("gammaln",     special.gammaln,    "g * special.digamma(x)",
     "d log|Gamma(x)| = digamma(x), also where Gamma(x) < 0."),
    ("digamma",     special.digamma,    "g * special.polygamma(1, x)"),     # also special.psi, the same ufunc
    ("rgamma",      special.rgamma,     "-g * ans * special.digamma(x)",
     "d (1 / Gamma(x)) = -digamma(x) / Gamma(x)."),
    # Bessel functions of orders 0 and 1
    ("j0",          special.j0,         "-g * special.j1(x)"),
    ("j1",          special.j1,         "g * 0.5 * (special.j0(x) - special.jv(2, x))"),
    ("y0",          special.y0,         "-g * special.y1(x)"),
    ("y1",          special.y1,         "g * 0.5 * (special.y0(x) - special.yn(2, x))"),
    ("i0",          special.i0,         "g * special.i1(x)"),
    ("i1",          special.i1,         "g * 0.5 * (special.i0(x) + special.iv(2, x))"),
])


# --- more arguments (each forward rule derived from the reverse: families.elementwise) ------

@elementwise(special.polygamma)
def polygamma(g, ans, n, x):
    return None, unbroadcast(g * special.polygamma(n + 1, x), x)


@elementwise(special.multigammaln)
def multigammaln(g, ans, a, d):
    """log Gamma_d(a) = const + sum_{j<d} gammaln(a - j/2)."""
    return g * np.sum(special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), axis=-1)


@elementwise(special.beta)
def beta(g, ans, a, b):
    """B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)."""
    both = special.digamma(a + b)
    return (unbroadcast(g * ans * (special.digamma(a) - both), a),
            unbroadcast(g * ans * (special.digamma(b) - both), b))


@elementwise(special.betaln)
def betaln(g, ans, a, b):
    both = special.digamma(a + b)
    return unbroadcast(g * (special.digamma(a) - both), a), unbroadcast(g * (special.digamma(b) - both), b)


@elementwise(special.gammainc)
def gammainc(g, ans, a, x):
    """The regularized lower incomplete gamma function: d/dx = x^(a-1) e^-x / Gamma(a)."""
    return None, unbroadcast(g * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a)), x)


@elementwise(special.gammaincc)
def gammaincc(g, ans, a, x):
    return None, unbroadcast(-g * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a)), x)


@elementwise(special.betainc)
def betainc(g, ans, a, b, x):
    """The regularized incomplete beta function: d/dx = x^(a-1) (1-x)^(b-1) / B(a, b)."""
    density = np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b))
    return None, None, unbroadcast(g * density, x)


# --- x log y ---------------------------------------------------------------------------

@elementwise(special.xlogy)
def xlogy(g, ans, x, y):
    """x log(y), 0 where x == 0: the derivative w.r.t. y is 0 there too."""
    return (unbroadcast(g * np.log(y), x),
            unbroadcast(g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y)), y))


@elementwise(special.xlog1py)
def xlog1py(g, ans, x, y):
    """x log(1 + y), 0 where x == 0."""
    return (unbroadcast(g * np.log1p(y), x),
            unbroadcast(g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, 1.0 + y)), y))


# --- Bessel functions, w.r.t. the argument x (the order carries no rule) -----------------

family(globals(), """
    @elementwise(special.$f)
    def $f(g, ans, $v, x):
        \"\"\"$doc\"\"\"
        return None, unbroadcast(${sign}g * 0.5 * (special.$f($v - 1, x) $op special.$f($v + 1, x)), x)
""", [
    {"f": "jv", "v": "v", "sign": "", "op": "-", "doc": "J_v' = (J_{v-1} - J_{v+1}) / 2."},
    {"f": "yv", "v": "v", "sign": "", "op": "-", "doc": "Y_v' = (Y_{v-1} - Y_{v+1}) / 2."},
    {"f": "yn", "v": "n", "sign": "", "op": "-", "doc": "Y_n' = (Y_{n-1} - Y_{n+1}) / 2."},
    {"f": "iv", "v": "v", "sign": "", "op": "+", "doc": "I_v' = (I_{v-1} + I_{v+1}) / 2."},
    {"f": "kv", "v": "v", "sign": "-", "op": "+", "doc": "K_v' = -(K_{v-1} + K_{v+1}) / 2."},
])


@elementwise(special.ive)
def ive(g, ans, v, x):
    """ive = iv exp(-|x|): the recurrence of iv, minus sign(x) ive."""
    return None, unbroadcast(g * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x))
                                  - np.sign(x) * ans), x)


nondifferentiable(special.gammasgn)
