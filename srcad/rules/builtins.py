"""Reverse and forward rules of Python's scalar math: the ``math`` module and
the builtins ``abs``, ``float``, ``max`` and ``min``; each forward rule follows
its reverse twin.

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

from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import real_sign


@adjoint(math.sin)
def sin(g, ans, x):
    return g * math.cos(x)


@tangent(math.sin)
def sin_tangent(x_dot, ans, x):
    return x_dot * math.cos(x)


@adjoint(math.cos)
def cos(g, ans, x):
    return -g * math.sin(x)


@tangent(math.cos)
def cos_tangent(x_dot, ans, x):
    return -x_dot * math.sin(x)


@adjoint(math.tan)
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@tangent(math.tan)
def tan_tangent(x_dot, ans, x):
    return x_dot * (1.0 + ans * ans)


@adjoint(math.asin)
def asin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@tangent(math.asin)
def asin_tangent(x_dot, ans, x):
    return x_dot / np.sqrt(1.0 - x * x)


@adjoint(math.acos)
def acos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@tangent(math.acos)
def acos_tangent(x_dot, ans, x):
    return -x_dot / np.sqrt(1.0 - x * x)


@adjoint(math.atan)
def atan(g, ans, x):
    return g / (1.0 + x * x)


@tangent(math.atan)
def atan_tangent(x_dot, ans, x):
    return x_dot / (1.0 + x * x)


@adjoint(math.atan2)
def atan2(g, ans, y, x):
    squared_radius = np.float64(x * x + y * y)
    return g * x / squared_radius, -g * y / squared_radius


@tangent(math.atan2)
def atan2_tangent(y_dot, x_dot, ans, y, x):
    squared_radius = np.float64(x * x + y * y)
    return y_dot * x / squared_radius, -x_dot * y / squared_radius


@adjoint(math.sinh)
def sinh(g, ans, x):
    return g * math.cosh(x)


@tangent(math.sinh)
def sinh_tangent(x_dot, ans, x):
    return x_dot * math.cosh(x)


@adjoint(math.cosh)
def cosh(g, ans, x):
    return g * math.sinh(x)


@tangent(math.cosh)
def cosh_tangent(x_dot, ans, x):
    return x_dot * math.sinh(x)


@adjoint(math.tanh)
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@tangent(math.tanh)
def tanh_tangent(x_dot, ans, x):
    return x_dot * (1.0 - ans * ans)


@adjoint(math.asinh)
def asinh(g, ans, x):
    return g / math.sqrt(x * x + 1.0)


@tangent(math.asinh)
def asinh_tangent(x_dot, ans, x):
    return x_dot / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def acosh(g, ans, x):
    return g / np.sqrt((x - 1.0) * (x + 1.0))


@tangent(math.acosh)
def acosh_tangent(x_dot, ans, x):
    return x_dot / np.sqrt((x - 1.0) * (x + 1.0))


@adjoint(math.atanh)
def atanh(g, ans, x):
    return g / (1.0 - x * x)


@tangent(math.atanh)
def atanh_tangent(x_dot, ans, x):
    return x_dot / (1.0 - x * x)


@adjoint(math.exp)
def exp(g, ans, x):
    return g * ans


@tangent(math.exp)
def exp_tangent(x_dot, ans, x):
    return x_dot * ans


@adjoint(math.expm1)
def expm1(g, ans, x):
    return g * (ans + 1.0)


@tangent(math.expm1)
def expm1_tangent(x_dot, ans, x):
    return x_dot * (ans + 1.0)


@adjoint(math.log)
def log(g, ans, x, base=math.e):
    """ans = ln(x) / ln(base)."""
    return g / (x * math.log(base)), -g * ans / (base * math.log(base))


@tangent(math.log)
def log_tangent(x_dot, base_dot, ans, x, base=math.e):
    return x_dot / (x * math.log(base)), -base_dot * ans / (base * math.log(base))


@adjoint(math.log1p)
def log1p(g, ans, x):
    return g / (1.0 + x)


@tangent(math.log1p)
def log1p_tangent(x_dot, ans, x):
    return x_dot / (1.0 + x)


@adjoint(math.log2)
def log2(g, ans, x):
    return g / (x * math.log(2.0))


@tangent(math.log2)
def log2_tangent(x_dot, ans, x):
    return x_dot / (x * math.log(2.0))


@adjoint(math.log10)
def log10(g, ans, x):
    return g / (x * math.log(10.0))


@tangent(math.log10)
def log10_tangent(x_dot, ans, x):
    return x_dot / (x * math.log(10.0))


@adjoint(math.sqrt)
def sqrt(g, ans, x):
    return g / (2.0 * np.float64(ans))


@tangent(math.sqrt)
def sqrt_tangent(x_dot, ans, x):
    return x_dot / (2.0 * np.float64(ans))


@adjoint(math.pow)
def power(g, ans, x, y):
    """d/dx = y x^(y-1) (0 when y = 0); d/dy = x^y ln x, taken as 0 where x <= 0."""
    return (g * y * np.float64(x) ** (y - 1.0) if y else 0.0,
            g * ans * math.log(x) if x > 0 else 0.0)


@tangent(math.pow)
def power_tangent(x_dot, y_dot, ans, x, y):
    return (x_dot * y * np.float64(x) ** (y - 1.0) if y else 0.0,
            y_dot * ans * math.log(x) if x > 0 else 0.0)


@adjoint(math.hypot)
def hypot(g, ans, x, y):
    """d/dx = x / hypot(x, y), and 0 at the origin (as abs'(0) = 0)."""
    scale = g / ans if ans else 0.0
    return scale * x, scale * y


@tangent(math.hypot)
def hypot_tangent(x_dot, y_dot, ans, x, y):
    inverse = 1.0 / ans if ans else 0.0
    return x_dot * x * inverse, y_dot * y * inverse


@adjoint(math.erf)
def erf(g, ans, x):
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@tangent(math.erf)
def erf_tangent(x_dot, ans, x):
    return x_dot * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(math.erfc)
def erfc(g, ans, x):
    return -g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@tangent(math.erfc)
def erfc_tangent(x_dot, ans, x):
    return -x_dot * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


@adjoint(abs, math.fabs)
def builtin_abs(g, ans, x):
    return g * real_sign(x)           # refuses a Python complex: |z| is real, so nothing else would


@tangent(abs, math.fabs)
def builtin_abs_tangent(x_dot, ans, x):
    return x_dot * real_sign(x)


@adjoint(float)
def builtin_float(g, ans, x):
    return g


@tangent(float)
def builtin_float_tangent(x_dot, ans, x):
    return x_dot


views(max, min, every_argument=True)     # one of the arguments itself


@adjoint(max)
def builtin_max(g, ans, x, y):
    x_share = (x > y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


@tangent(max)
def builtin_max_tangent(x_dot, y_dot, ans, x, y):
    x_share = (x > y) + 0.5 * (x == y)
    return x_dot * x_share, y_dot * (1.0 - x_share)


@adjoint(min)
def builtin_min(g, ans, x, y):
    x_share = (x < y) + 0.5 * (x == y)
    return g * x_share, g * (1.0 - x_share)


@tangent(min)
def builtin_min_tangent(x_dot, y_dot, ans, x, y):
    x_share = (x < y) + 0.5 * (x == y)
    return x_dot * x_share, y_dot * (1.0 - x_share)


nondifferentiable(
    len, int, round, bool, isinstance, range, type,
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
)
