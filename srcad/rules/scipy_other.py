"""Reverse and forward rules of ``scipy.signal.convolve`` and ``correlate`` and of ``scipy.linalg``'s
``solve_triangular``, ``cho_solve``, ``sqrtm`` and ``solve_sylvester``
(registered only when SciPy imports).

``convolve`` is bilinear: its tangent is the convolution of a tangent with the
other input, and its adjoint correlates the cotangent, placed where the mode's
window sits inside the full convolution, with the other input (``valid``
mode).  The linear-algebra rules are for single real matrices, with ``b`` a
vector or a matrix of columns.  ``cho_solve`` is differentiated w.r.t. ``b``
and the factor ``c``: the gradient of ``c`` keeps to the triangle that
``cho_solve`` reads.
"""

import numpy as np
from scipy import linalg, signal

from srcad.rules.registry import adjoint, tangent
from srcad.runtime import zeros_like


# --- helpers the rules call ----------------------------------------------------------

def _window(full, shape):
    """Where a window of ``shape`` sits, centred, in an array of shape ``full``."""
    return tuple(slice((n - m) // 2, (n - m) // 2 + m) for n, m in zip(full, shape))


def full_cotangent(cotangent, in1, in2):
    """``cotangent``, that of one mode's window of the full convolution of
    ``in1`` and ``in2``, placed in a zero array of the full shape (SciPy centres
    the ``same`` and ``valid`` windows in the full result).  Linear in
    ``cotangent``, with rules of its own so gradients can be differentiated again."""
    full = tuple(n1 + n2 - 1 for n1, n2 in zip(np.shape(in1), np.shape(in2)))
    out = np.zeros(full, dtype=np.result_type(cotangent, in1, in2, float))
    out[_window(full, np.shape(cotangent))] = cotangent
    return out


def window_of(full, like):
    """The centred window of ``full`` shaped like ``like``: the adjoint of :func:`full_cotangent`."""
    return np.array(full[_window(np.shape(full), np.shape(like))])


def as_columns(v, b):
    """A vector right-hand side (and its solution) as one column, to write one formula."""
    return v[:, None] if np.ndim(b) == 1 else v


def like_rhs(m, b):
    """The inverse of :func:`as_columns`."""
    return m[:, 0] if np.ndim(b) == 1 else m


def transposed_op(trans):
    """``solve_triangular``'s ``trans`` for the transposed system (real matrices)."""
    return 0 if trans in (1, 2, "T", "C") else 1


def triangle(m, lower, unit_diagonal=False):
    """The part of ``m`` in the triangle a triangular solve reads (no diagonal
    when it is taken as ones)."""
    part = np.tril(m) if lower else np.triu(m)
    return part - np.diag(np.diag(part)) if unit_diagonal else part


def triangular_a_gradient(gb, x, b, trans=0, lower=False, unit_diagonal=False):
    """x = op(a)^-1 b: the cotangent of op(a) is -gb x^T, of a its transpose when op
    transposes; kept to a's triangle."""
    outer = -as_columns(gb, b) @ as_columns(x, b).T
    return triangle(outer.T if transposed_op(trans) == 0 else outer, lower, unit_diagonal)


def cho_factor_gradient(ga, c_and_lower):
    """The cotangent of the factor c of a = L L^T (lower) or U^T U, from that of a."""
    c, lower = c_and_lower[0], c_and_lower[1]
    sym = ga + ga.T
    return (np.tril(sym @ np.tril(c)), None) if lower else (np.triu(np.triu(c) @ sym), None)


def cho_factor_tangent(c_dot, c_and_lower):
    """The tangent of a = L L^T (or U^T U) from that of its factor."""
    c, lower = c_and_lower[0], c_and_lower[1]
    part = (np.tril(c_dot) @ np.tril(c).T) if lower else (np.triu(c_dot).T @ np.triu(c))
    return part + part.T


@adjoint(full_cotangent)
def full_cotangent_rule(g, ans, cotangent, in1, in2):
    """Linear in the cotangent; in1 and in2 give only the shape."""
    return window_of(g, cotangent), zeros_like(in1), zeros_like(in2)


@tangent(full_cotangent)
def full_cotangent_tangent(cotangent_dot, in1_dot, in2_dot, ans, cotangent, in1, in2):
    return full_cotangent(cotangent_dot, in1, in2), zeros_like(ans), zeros_like(ans)


# --- scipy.signal ------------------------------------------------------------------------

@adjoint(signal.convolve)
def convolve(g, ans, in1, in2, mode="full", method="auto"):
    """Each input's gradient correlates the full-size cotangent with the other input."""
    full = full_cotangent(g, in1, in2)
    return (signal.correlate(full, in2, mode="valid", method=method),
            signal.correlate(full, in1, mode="valid", method=method))


@tangent(signal.convolve)
def convolve_tangent(in1_dot, in2_dot, ans, in1, in2, mode="full", method="auto"):
    return (signal.convolve(in1_dot, in2, mode=mode, method=method),
            signal.convolve(in1, in2_dot, mode=mode, method=method))


def flipped(a):
    """``a`` reversed along every axis: correlate(x, k) = convolve(x, flipped(k)) for real k."""
    return np.flip(a, axis=tuple(range(np.ndim(a))))


@adjoint(signal.correlate)
def correlate(g, ans, in1, in2, mode="full", method="auto"):
    """correlate(in1, in2) = convolve(in1, flipped(in2)): the convolution's gradients,
    the second one flipped back."""
    full = full_cotangent(g, in1, in2)
    return (signal.correlate(full, flipped(in2), mode="valid", method=method),
            flipped(signal.correlate(full, in1, mode="valid", method=method)))


@tangent(signal.correlate)
def correlate_tangent(in1_dot, in2_dot, ans, in1, in2, mode="full", method="auto"):
    return (signal.correlate(in1_dot, in2, mode=mode, method=method),
            signal.correlate(in1, in2_dot, mode=mode, method=method))


# --- scipy.linalg ------------------------------------------------------------------------

@adjoint(linalg.solve_triangular)
def solve_triangular(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """x = op(a)^-1 b: gb solves the transposed system, ga = -gb x^T on a's triangle."""
    gb = linalg.solve_triangular(a, g, trans=transposed_op(trans), lower=lower,
                                 unit_diagonal=unit_diagonal)
    return triangular_a_gradient(gb, ans, b, trans, lower, unit_diagonal), gb


@tangent(linalg.solve_triangular)
def solve_triangular_tangent(a_dot, b_dot, ans, a, b, trans=0, lower=False, unit_diagonal=False,
                             overwrite_b=False, check_finite=True):
    """dx = op(a)^-1 (db - op(da) x), da restricted to the triangle that is read."""
    return (-linalg.solve_triangular(a, like_rhs(
                (triangle(a_dot, lower, unit_diagonal) if transposed_op(trans) == 1
                 else triangle(a_dot, lower, unit_diagonal).T) @ as_columns(ans, b), b),
                trans=trans, lower=lower, unit_diagonal=unit_diagonal),
            linalg.solve_triangular(a, b_dot, trans=trans, lower=lower, unit_diagonal=unit_diagonal))


@adjoint(linalg.cho_solve)
def cho_solve(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    """x = a^-1 b with a = c c^T: gb = a^-1 g, ga = -gb x^T, then through the factor."""
    gb = linalg.cho_solve(c_and_lower, g)
    return cho_factor_gradient(-as_columns(gb, b) @ as_columns(ans, b).T, c_and_lower), gb


@tangent(linalg.cho_solve)
def cho_solve_tangent(c_and_lower_dot, b_dot, ans, c_and_lower, b, overwrite_b=False,
                      check_finite=True):
    return (-linalg.cho_solve(c_and_lower, like_rhs(
                cho_factor_tangent(c_and_lower_dot[0], c_and_lower) @ as_columns(ans, b), b)),
            linalg.cho_solve(c_and_lower, b_dot))


@adjoint(linalg.sqrtm)
def sqrtm(g, ans, A, *, disp=True, blocksize=64):
    """X = sqrtm(A): X dX + dX X = dA, so the cotangent solves X^T G + G X^T = g."""
    return linalg.solve_sylvester(ans.T, ans.T, g)


@tangent(linalg.sqrtm)
def sqrtm_tangent(A_dot, ans, A, *, disp=True, blocksize=64):
    return linalg.solve_sylvester(ans, ans, A_dot)


@adjoint(linalg.solve_sylvester)
def solve_sylvester(g, ans, a, b, q):
    """a x + x b = q: y solves a^T y + y b^T = g; then gq = y, ga = -y x^T, gb = -x^T y."""
    y = linalg.solve_sylvester(a.T, b.T, g)
    return -(y @ ans.T), -(ans.T @ y), y


@tangent(linalg.solve_sylvester)
def solve_sylvester_tangent(a_dot, b_dot, q_dot, ans, a, b, q):
    return (linalg.solve_sylvester(a, b, -(a_dot @ ans)), linalg.solve_sylvester(a, b, -(ans @ b_dot)),
            linalg.solve_sylvester(a, b, q_dot))
