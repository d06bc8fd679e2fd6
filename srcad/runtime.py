"""The few helpers that generated code calls.

They are small on purpose: generated code should read like hand-written NumPy,
and each helper here stands for one idea a reader already knows (summing a
broadcast cotangent back to its operand's shape, scattering into zeros, a stack
for values a loop overwrites).
"""

import numpy as np


def identity(x):
    """The primitive of a plain copy ``y = x``: its adjoint passes ``g`` on."""
    return x


def check_scalar(value):
    """``grad`` differentiates scalar outputs only; refuse anything else."""
    if type(value) is not float and np.ndim(value) != 0:
        from srcad.errors import NonScalarOutputError
        raise NonScalarOutputError(
            f"grad needs a function with a scalar output, but it returned an "
            f"array of shape {np.shape(value)}",
            hint="use srcad.vjp for a vector-Jacobian product or "
                 "srcad.jacobian for the full Jacobian")
    return value


def unbroadcast(g, x):
    """Sum the cotangent ``g`` down to the shape of ``x``.

    NumPy broadcasting copies ``x`` along new leading axes and along axes where
    ``x`` has length 1; the adjoint of a copy is a sum over those axes.
    """
    if type(g) is float:          # the common scalar case, without NumPy calls
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:          # x was a smaller-rank scalar shape, e.g. ()
        g = g.reshape(shape)
    return g


def repeat_to(g, x, axis=None, keepdims=False):
    """Spread the cotangent of a reduction of ``x`` back over ``x``'s shape.

    ``g`` has the reduced shape; when the reduction dropped axes, they are put
    back as length-1 axes so the result broadcasts against ``x``.
    """
    shape = np.shape(x)
    g = np.asarray(g)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = sorted(a % len(shape) for a in axes)
        for a in axes:
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape).copy() if shape else g.astype(float) + 0.0


def reduced_count(x, axis=None):
    """How many elements of ``x`` each output of a reduction over ``axis`` sums."""
    shape = np.shape(x)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def scatter_add(g, x, index):
    """Adjoint of ``x[index]``: zeros shaped like ``x`` with ``g`` added at ``index``.

    ``np.add.at`` accumulates where an integer-array index repeats, which plain
    ``zeros[index] += g`` would not.
    """
    out = np.zeros(np.shape(x), dtype=np.result_type(g, float))
    np.add.at(out, index, g)
    return out


def zeros_like(x):
    """A float zero shaped like ``x``: a dense zero gradient at the API boundary."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return 0.0
    return np.zeros(np.shape(x), dtype=np.result_type(x, float))


class Stack(list):
    """Values a loop overwrites: pushed in the forward sweep, popped in reverse."""

    push = list.append


def matmul_adjoint_x(g, x, y):
    """Cotangent of ``x`` in ``x @ y``, for every rank combination ``@`` allows."""
    if np.ndim(y) == 1:
        return g * y if np.ndim(x) == 1 else unbroadcast(np.multiply.outer(g, y), x)
    if np.ndim(x) == 1:
        return unbroadcast((y @ np.expand_dims(g, -1))[..., 0], x)
    return unbroadcast(g @ np.swapaxes(y, -1, -2), x)


def matmul_adjoint_y(g, x, y):
    """Cotangent of ``y`` in ``x @ y``, for every rank combination ``@`` allows."""
    if np.ndim(x) == 1:
        return g * x if np.ndim(y) == 1 else unbroadcast(
            np.expand_dims(x, -1) * np.expand_dims(g, -2), y)
    if np.ndim(y) == 1:
        return unbroadcast((np.swapaxes(x, -1, -2) @ np.expand_dims(g, -1))[..., 0], y)
    return unbroadcast(np.swapaxes(x, -1, -2) @ g, y)
