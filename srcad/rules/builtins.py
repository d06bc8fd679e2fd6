"""Reverse and forward rules of Python's scalar math: the ``math`` module and
the builtins ``abs``, ``float``, ``max`` and ``min``; each forward rule follows
its reverse twin, or is derived from it (:mod:`srcad.rules.families`); the
one-argument functions ``math`` shares with NumPy take their derivatives from
``srcad.rules.numpy.SHARED_WITH_MATH``.

Arguments are Python numbers, so the rules use ``math`` and plain arithmetic,
which is fast on scalars.  Where a derivative is infinite at a point where the
function itself is defined (``sqrt`` at 0, ``asin`` at 1) the denominator is a
NumPy scalar (``np.sqrt``, ``np.float64``), so the gradient is ``inf`` as in
NumPy instead of a ``ZeroDivisionError``.  At non-differentiable points the
rules follow the conventions listed in :mod:`srcad.rules.numpy` (``abs'(0) = 0``,
ties of ``max``/``min`` split ``g`` in halves, ``hypot'(0, 0) = 0``).
"""

import math

import numpy as np

from srcad.rules.families import elementwise, unary
from srcad.rules.numpy import SHARED_WITH_MATH
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import real_sign


# the one-argument functions math shares with NumPy: one table of derivatives
# serves both (srcad.rules.numpy.SHARED_WITH_MATH), each rule in its module
unary(globals(), [(name, getattr(math, name), reverse.replace("xp.", "math."))
                  for _, name, reverse in SHARED_WITH_MATH] + [
    ("sqrt",          math.sqrt,          "g / (2.0 * np.float64(ans))"),
    ("erf",           math.erf,           "g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)"),
    ("erfc",          math.erfc,          "-g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)"),
    # real_sign refuses a Python complex: |z| is real, so nothing else would
    ("builtin_abs",   (abs, math.fabs),   "g * real_sign(x)"),
    ("builtin_float", float,              "g"),
])


@elementwise(math.atan2)
def atan2(g, ans, y, x):
    squared_radius = np.float64(x * x + y * y)
    return g * x / squared_radius, -g * y / squared_radius


@elementwise(math.log)
def log(g, ans, x, base=math.e):
    """ans = ln(x) / ln(base)."""
    return g / (x * math.log(base)), -g * ans / (base * math.log(base))


@elementwise(math.pow)
def power(g, ans, x, y):
    """d/dx = y x^(y-1) (0 when y = 0); d/dy = x^y ln x, taken as 0 where x <= 0."""
    return (g * y * np.float64(x) ** (y - 1.0) if y else 0.0,
            g * ans * math.log(x) if x > 0 else 0.0)


@adjoint(math.hypot)
def hypot(g, ans, x, y):
    """d/dx = x / hypot(x, y), and 0 at the origin (as abs'(0) = 0)."""
    scale = g / ans if ans else 0.0
    return scale * x, scale * y


@tangent(math.hypot)
def hypot_tangent(x_dot, y_dot, ans, x, y):
    inverse = 1.0 / ans if ans else 0.0
    return x_dot * x * inverse, y_dot * y * inverse


views(max, min, every_argument=True)     # one of the arguments itself


@elementwise(max)
def builtin_max(g, ans, x, y):
    x_share = (x > y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


@elementwise(min)
def builtin_min(g, ans, x, y):
    x_share = (x < y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


nondifferentiable(
    len, int, round, bool, isinstance, range, type,
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
)
