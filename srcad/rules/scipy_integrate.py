"""Reverse and forward rules of ``scipy.integrate.odeint`` (registered only when
SciPy imports).

``y = odeint(func, y0, t, args)`` solves ``dy/dt = func(y, t, *args)``.  The
right-hand side ``func`` is the user's function: srcad differentiates it
(``srcad.vjp`` and ``srcad.jvp`` of ``func`` w.r.t. ``y`` and ``args``), so it
must be a function srcad can transform, defined at module level.

* Reverse mode uses adjoint sensitivities: from the last time backwards, the
  state ``y``, its adjoint ``a`` (``da/dt = -a^T df/dy``) and the gradient of
  ``args`` (``d a_args/dt = -a^T df/dargs``) are integrated together between
  consecutive output times, and the cotangent of each output is added to ``a``
  on the way.  The gradient of ``t[i]`` is ``g[i] . func(y[i], t[i])`` for
  ``i >= 1`` and ``-a(t0) . func(y0, t0)`` for ``t[0]``.
* Forward mode integrates the tangent ODE ``d(y_dot)/dt = df/dy y_dot + df/dargs
  args_dot`` alongside ``y``, one solve per tangent argument.

Both solve with the call's ``rtol`` and ``atol``: the derivative is as accurate
as the solution.  ``y0`` must be a vector; ``tfirst=True`` and
``full_output`` are refused.
"""

import numpy as np
from scipy import integrate

from srcad.rules.registry import adjoint, tangent
from srcad.runtime import UnsupportedArgumentError


def _check_call(y0, tfirst, full_output):
    if tfirst or full_output or np.ndim(y0) != 1:
        raise UnsupportedArgumentError(
            "srcad differentiates scipy.integrate.odeint(func, y0, t, args) for a vector y0, "
            f"without tfirst or full_output (got a {np.ndim(y0)}-d y0, tfirst={tfirst!r}, "
            f"full_output={full_output!r})",
            hint="write func(y, t, *args) and pass y0 as a 1-d array")


def _derivatives(func, args, mode):
    """srcad's vjp or jvp of ``func(y, t, *args)`` w.r.t. ``y`` and every arg."""
    import srcad
    return getattr(srcad, mode)(func, wrt=(0,) + tuple(range(2, 2 + len(args))))


def _flat(values):
    """The arrays and floats of ``values`` as one vector (the ODE's state is flat)."""
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]) if values \
        else np.zeros(0)


def _unflat(vector, like):
    """``vector`` cut into pieces shaped like the entries of ``like`` (a tuple)."""
    out, start = [], 0
    for item in like:
        size = int(np.size(item))
        piece = vector[start:start + size]
        out.append(float(piece[0]) if np.ndim(item) == 0 and isinstance(item, float)
                   else np.reshape(piece, np.shape(item)).copy())
        start += size
    return tuple(out)


def _tolerances(rtol, atol):
    return {"rtol": rtol, "atol": atol}


def odeint_adjoint(g, ans, func, y0, t, args=(), rtol=None, atol=None, tfirst=False, full_output=0):
    """``(gradient of y0, gradient of t, gradients of args)`` by adjoint sensitivities."""
    _check_call(y0, tfirst, full_output)
    args = tuple(args)
    vjp = _derivatives(func, args, "vjp")
    n, p = np.size(y0), int(sum(np.size(a) for a in args))
    g = np.asarray(g, dtype=float)
    t = np.asarray(t, dtype=float)

    def backward(z, time):
        y, a = z[:n], z[n:2 * n]
        grads = vjp(y, time, *args, a)
        return np.concatenate([np.asarray(func(y, time, *args), dtype=float).ravel(),
                               -np.ravel(grads[0]), -_flat(grads[1:])])

    gt = np.zeros(t.shape)
    a = g[-1].copy()
    a_args = np.zeros(p)
    for i in range(len(t) - 1, 0, -1):
        gt[i] = np.dot(g[i], np.ravel(func(ans[i], t[i], *args)))
        z = np.concatenate([ans[i], a, a_args])
        z = integrate.odeint(backward, z, [t[i], t[i - 1]], **_tolerances(rtol, atol))[-1]
        a, a_args = z[n:2 * n], z[2 * n:]
        if i > 1:
            a = a + g[i - 1]
    if len(t) > 1:
        gt[0] = -np.dot(a, np.ravel(func(ans[0], t[0], *args)))
        a = a + g[0]
    else:
        a = g[0].copy()
    return a, gt, _unflat(a_args, args)


def _tangent_solve(func, ans, t, args, start, args_dot, rtol, atol):
    """The tangent of the solution from the initial tangent ``start``, with
    ``args_dot`` the tangents of the args (zeros for none)."""
    jvp = _derivatives(func, args, "jvp")
    n = np.size(start)

    def forward(z, time):
        y, y_dot = z[:n], z[n:]
        value, tangent = jvp(y, time, *args, y_dot, *args_dot)
        return np.concatenate([np.ravel(value), np.ravel(tangent)])

    z = integrate.odeint(forward, np.concatenate([ans[0], start]), t, **_tolerances(rtol, atol))
    return z[:, n:]


def _zero_tangents(args):
    return tuple(0.0 if isinstance(a, float) else np.zeros(np.shape(a)) for a in args)


def odeint_tangent_y0(y0_dot, ans, func, y0, t, args=(), rtol=None, atol=None, tfirst=False,
                      full_output=0):
    """The contribution of the tangent of ``y0``: the tangent ODE from ``y0_dot``."""
    _check_call(y0, tfirst, full_output)
    args = tuple(args)
    return _tangent_solve(func, ans, t, args, np.asarray(y0_dot, dtype=float), _zero_tangents(args),
                          rtol, atol)


def odeint_tangent_t(t_dot, ans, func, y0, t, args=(), rtol=None, atol=None, tfirst=False,
                     full_output=0):
    """Moving t[0] shifts the start: the tangent ODE from -func(y0, t0) t0_dot; moving
    t[i] moves along the solution: + func(y[i], t[i]) t_dot[i]."""
    _check_call(y0, tfirst, full_output)
    args = tuple(args)
    t_dot = np.asarray(t_dot, dtype=float)
    rates = np.stack([np.ravel(func(ans[i], t[i], *args)) for i in range(len(t))])
    shifted = _tangent_solve(func, ans, t, args, -rates[0] * t_dot[0], _zero_tangents(args),
                             rtol, atol)
    return shifted + rates * t_dot[:, None]


def odeint_tangent_args(args_dot, ans, func, y0, t, args=(), rtol=None, atol=None, tfirst=False,
                        full_output=0):
    """The contribution of the tangents of ``args``: the tangent ODE from 0, driven by them."""
    _check_call(y0, tfirst, full_output)
    args = tuple(args)
    return _tangent_solve(func, ans, t, args, np.zeros(np.size(y0)), tuple(args_dot), rtol, atol)


# The helpers solve ODEs with closures: srcad does not differentiate through them (a
# second derivative of odeint is refused at the call of the helper, not guessed).
for _helper in (odeint_adjoint, odeint_tangent_y0, odeint_tangent_t, odeint_tangent_args):
    _helper.srcad_opaque = True


@adjoint(integrate.odeint)
def odeint(g, ans, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """Adjoint sensitivities; ``func`` carries no derivative (it is the user's code)."""
    grads = odeint_adjoint(g, ans, func, y0, t, args, rtol, atol, tfirst, full_output)
    return None, grads[0], grads[1], grads[2]


@tangent(integrate.odeint)
def odeint_tangent(func_dot, y0_dot, t_dot, args_dot, ans, func, y0, t, args=(), Dfun=None,
                   col_deriv=0, full_output=0, ml=None, mu=None, rtol=None, atol=None, tcrit=None,
                   h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0, mxordn=12, mxords=5,
                   printmessg=0, tfirst=False):
    return (None,
            odeint_tangent_y0(y0_dot, ans, func, y0, t, args, rtol, atol, tfirst, full_output),
            odeint_tangent_t(t_dot, ans, func, y0, t, args, rtol, atol, tfirst, full_output),
            odeint_tangent_args(args_dot, ans, func, y0, t, args, rtol, atol, tfirst, full_output))
