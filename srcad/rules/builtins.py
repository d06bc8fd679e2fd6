"""Reverse rules of Python's scalar math: the ``math`` module and the builtins
``abs``, ``float``, ``max`` and ``min``.

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

from srcad.rules.registry import adjoint, nondifferentiable


@adjoint(math.sin)
def sin(g, ans, x):
    return g * math.cos(x)


@adjoint(math.cos)
def cos(g, ans, x):
    return -g * math.sin(x)


@adjoint(math.tan)
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@adjoint(math.asin)
def asin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@adjoint(math.atan)
def atan(g, ans, x):
    return g / (1.0 + x * x)


@adjoint(math.atan2)
def atan2(g, ans, y, x):
    squared_radius = np.float64(x * x + y * y)
    return g * x / squared_radius, -g * y / squared_radius


@adjoint(math.sinh)
def sinh(g, ans, x):
    return g * math.cosh(x)


@adjoint(math.cosh)
def cosh(g, ans, x):
    return g * math.sinh(x)


@adjoint(math.tanh)
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@adjoint(math.asinh)
def asinh(g, ans, x):
    return g / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def acosh(g, ans, x):
    return g / np.sqrt((x - 1.0) * (x + 1.0))


@adjoint(math.atanh)
def atanh(g, ans, x):
    return g / (1.0 - x * x)


@adjoint(math.exp)
def exp(g, ans, x):
    return g * ans


@adjoint(math.expm1)
def expm1(g, ans, x):
    return g * (ans + 1.0)


@adjoint(math.log)
def log(g, ans, x, base=math.e):
    """ans = ln(x) / ln(base)."""
    return g / (x * math.log(base)), -g * ans / (base * math.log(base))


@adjoint(math.log1p)
def log1p(g, ans, x):
    return g / (1.0 + x)


@adjoint(math.log2)
def log2(g, ans, x):
    return g / (x * math.log(2.0))


@adjoint(math.log10)
def log10(g, ans, x):
    return g / (x * math.log(10.0))


@adjoint(math.sqrt)
def sqrt(g, ans, x):
    return g / (2.0 * np.float64(ans))


@adjoint(math.pow)
def power(g, ans, x, y):
    """d/dx = y x^(y-1) (0 when y = 0); d/dy = x^y ln x, taken as 0 where x <= 0."""
    return (g * y * np.float64(x) ** (y - 1.0) if y else 0.0,
            g * ans * math.log(x) if x > 0 else 0.0)


@adjoint(math.hypot)
def hypot(g, ans, x, y):
    """d/dx = x / hypot(x, y), and 0 at the origin (as abs'(0) = 0)."""
    scale = g / ans if ans else 0.0
    return scale * x, scale * y


@adjoint(math.erf)
def erf(g, ans, x):
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def erfc(g, ans, x):
    return -g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(abs, math.fabs)
def builtin_abs(g, ans, x):
    return g * np.sign(x)


@adjoint(float)
def builtin_float(g, ans, x):
    return g


@adjoint(max)
def builtin_max(g, ans, x, y):
    x_share = (x > y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


@adjoint(min)
def builtin_min(g, ans, x, y):
    x_share = (x < y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


nondifferentiable(
    len, int, round, bool, isinstance, range, type,
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
)
