"""Runtime helpers of the NumPy rules in :mod:`srcad.rules.numpy_shapes`,
:mod:`srcad.rules.numpy_einsum` and :mod:`srcad.rules.linalg_decomp`.

Generated code calls them by name, as it calls :mod:`srcad.runtime`'s helpers;
each stands for one idea (the cotangent of one operand of an ``einsum``, a
gather and its scatter, the adjoint of a decomposition) so that the inlined
rule stays one readable line.
"""

import numpy as np

from srcad.runtime import Adjoints, UnsupportedArgumentError, unbroadcast, zeros_like

try:                                             # NumPy >= 2
    from numpy._core.einsumfunc import _parse_einsum_input
except ImportError:                              # pragma: no cover - NumPy 1.x
    from numpy.core.einsumfunc import _parse_einsum_input


# --- einsum ------------------------------------------------------------------------

def einsum_parts(subscripts, operands):
    """``(inputs, output, operands)`` of ``np.einsum(subscripts, *operands)`` with
    every ``...`` replaced by letters and the implicit output made explicit, as
    NumPy itself parses it (also the sublist form ``einsum(a, [0, 1], ...)``)."""
    inputs, output, arrays = _parse_einsum_input((subscripts, *operands))
    return inputs.split(","), output, [np.asarray(a) for a in arrays]


def _unique(letters):
    return "".join(dict.fromkeys(letters))


def einsum_operand_adjoint(g, k, inputs, output, arrays):
    """Cotangent of operand ``k`` of ``einsum(",".join(inputs) + "->" + output)``.

    The contraction of ``g`` with every other operand gives it on the distinct
    letters of operand ``k``; a letter that nothing else carries was summed away
    and comes back by broadcasting, an axis of length 1 that broadcast against a
    longer one is summed, and a repeated letter (a diagonal, ``"ii"``) puts the
    result on that diagonal of zeros.
    """
    mine, x = inputs[k], arrays[k]
    letters = _unique(mine)
    others = [j for j in range(len(arrays)) if j != k]
    elsewhere = set(output).union(*(inputs[j] for j in others))
    carried = "".join(c for c in letters if c in elsewhere)
    spec = ",".join([output] + [inputs[j] for j in others]) + "->" + carried
    part = np.einsum(spec, g, *(arrays[j] for j in others))
    sizes = {c: n for c, n in zip(mine, np.shape(x))}
    # back to one axis per distinct letter, in the order of `letters`
    shape = [np.shape(part)[carried.index(c)] if c in carried else 1 for c in letters]
    part = np.reshape(part, shape)
    full = [max(shape[i], sizes[c]) for i, c in enumerate(letters)]
    part = np.broadcast_to(part, full)
    summed = tuple(i for i, c in enumerate(letters) if sizes[c] == 1 and full[i] != 1)
    if summed:
        part = np.sum(part, axis=summed, keepdims=True)
    out = np.zeros(np.shape(x), dtype=np.result_type(g, x, float))
    if letters == mine:
        out[...] = part
    else:
        np.einsum(mine + "->" + letters, out)[...] = part       # a writable diagonal view
    return out


def einsum_adjoint(g, subscripts, operands):
    """The cotangents of every operand of ``np.einsum(subscripts, *operands)``
    (an :class:`~srcad.runtime.Adjoints`, one per operand, in order)."""
    inputs, output, arrays = einsum_parts(subscripts, operands)
    grads = [einsum_operand_adjoint(g, k, inputs, output, arrays) for k in range(len(arrays))]
    if not isinstance(subscripts, str):          # sublist form: operands interleave sublists
        slots = [None] * (len(operands) + 1)
        slots[0:2 * len(grads):2] = grads
        return slots[0], Adjoints(slots[1:])
    return None, Adjoints(grads)


def einsum_tangent(subscripts, subscripts_dot, operands_dot, operands):
    """A contribution to the tangent of ``np.einsum(subscripts, *operands)``:
    the sum, over the operands, of the einsum with that operand replaced by its
    tangent -- of the first operand when ``subscripts_dot`` is given (it is one
    in the sublist form ``einsum(a, [0, 1], b, [1, 2])``), of ``operands``
    when ``operands_dot`` is."""
    sublists = not isinstance(subscripts, str)
    inputs, output, arrays = einsum_parts(subscripts, operands)
    spec = ",".join(inputs) + "->" + output
    dots = [None] * len(arrays)
    if subscripts_dot is not None and sublists:
        dots[0] = subscripts_dot
    if operands_dot is not None:
        rest = list(operands_dot[1::2])[:len(arrays) - 1] if sublists else list(operands_dot)
        dots[len(arrays) - len(rest):] = rest
    total = np.zeros(np.shape(np.einsum(spec, *arrays)))
    for k, dot in enumerate(dots):
        if dot is not None and not _is_zero_tangent(dot):
            total = total + np.einsum(spec, *arrays[:k], dot, *arrays[k + 1:])
    return total


def _is_zero_tangent(dot):
    return isinstance(dot, (list, tuple, str))


# --- rearrangements: a gather from the input, whose adjoint is a scatter-add ----------

def index_map(primitive, x, *args, **kwargs):
    """Where each element of ``primitive(x, *args, **kwargs)`` comes from: the
    primitive run on the positions ``1 .. x.size`` of ``x``'s elements instead of
    their values, 0 marking an element that comes from no input (padding, the
    zeros around ``np.diag``'s diagonal).

    That is exact for every primitive that only copies elements (repeat, tile,
    pad by edge/reflect/symmetric/wrap, roll, take, diag ...), whatever its
    arguments, so one rule serves them all.
    """
    positions = np.arange(1, np.size(x) + 1).reshape(np.shape(x))
    index = np.asarray(primitive(positions, *args, **kwargs))
    if index.dtype.kind not in "iu":
        raise UnsupportedArgumentError(     # pragma: no cover - a rule's misuse
            f"{getattr(primitive, '__name__', primitive)} does not only copy elements",
            hint="register a rule for it with @srcad.adjoint")
    return index


def unindex(cotangent, x, index):
    """Adjoint of a gather ``ans = x.ravel()[index - 1]`` (0: no source): each
    element of ``x`` gets the sum of the cotangents of its copies."""
    g = np.broadcast_to(np.asarray(cotangent, dtype=float), np.shape(index))
    flat = np.bincount(np.ravel(index), weights=np.ravel(g), minlength=np.size(x) + 1)
    out = flat[1:].reshape(np.shape(x))
    return float(out) if isinstance(x, float) else out


def gather(x_dot, index):
    """``x_dot.ravel()[index - 1]`` with 0 where ``index`` is 0: the tangent of a
    rearrangement (and the adjoint of :func:`unindex`)."""
    flat = np.concatenate([[0.0], np.ravel(np.asarray(x_dot, dtype=float))])
    return flat[index]


def pad_index(array, pad_width, mode, reflect_type):
    """The :func:`index_map` of ``np.pad``; the modes that compute new values
    from the data (``linear_ramp``, ``mean`` ...) or ``reflect_type='odd'`` are
    refused."""
    if callable(mode) or mode not in ("constant", "edge", "reflect", "symmetric", "wrap", "empty"):
        raise UnsupportedArgumentError(
            f"srcad differentiates np.pad with the modes constant, edge, reflect, symmetric "
            f"and wrap, not mode={mode!r}",
            hint="pad with one of those modes, or register a rule with @srcad.adjoint")
    if reflect_type != "even":
        raise UnsupportedArgumentError(
            "srcad differentiates np.pad with reflect_type='even' only",
            hint="the odd reflection 2 * edge - x is np.pad(..., reflect_type='even') "
                 "subtracted from twice the edge")
    if mode in ("constant", "empty"):
        return index_map(np.pad, array, pad_width, "constant")
    return index_map(np.pad, array, pad_width, mode)


def sort_index(a, ans, axis):
    """The positions (1-based, along the flattened ``a``) of the elements of
    ``ans = np.sort(a, axis)`` or ``np.partition(a, kth, axis)``.

    Recovered from the values, so it matches the result the primitive gave
    whatever its algorithm: ``ans``'s elements are ranked, and rank ``r`` comes
    from the element of ``a`` of rank ``r`` (a stable ranking of both; tied
    values are equal, so which of them comes from where changes nothing but
    the share of the gradient each tied element gets, see docs/conventions.md).
    """
    positions = np.arange(1, np.size(a) + 1).reshape(np.shape(a))
    if axis is None:
        a, positions, axis = np.ravel(a), np.ravel(positions), -1
    order_a = np.argsort(a, axis=axis, kind="stable")
    rank_ans = np.argsort(np.argsort(ans, axis=axis, kind="stable"), axis=axis, kind="stable")
    return np.take_along_axis(np.take_along_axis(positions, order_a, axis), rank_ans, axis)


def rollaxis_destination(a, axis, start):
    """``np.rollaxis(a, axis, start)`` as ``np.moveaxis(a, axis, destination)``."""
    n = np.ndim(a)
    axis, start = axis % n, (start + n if start < 0 else start)
    return start - 1 if axis < start else start


def unsplit(g, ary, axis):
    """Adjoint of the pieces of ``np.split(ary, ..., axis)`` and its siblings:
    the pieces' cotangents side by side again."""
    return np.concatenate([np.asarray(p, dtype=np.result_type(p, float)) for p in g], axis)


def split_axis(ary, axis):
    """The axis hsplit (1, or 0 for 1-d), vsplit (0) and dsplit (2) cut along."""
    return 0 if axis == 1 and np.ndim(ary) == 1 else axis


def as_tangent(values):
    """A list or tuple of tangents (of a primitive that returns several arrays)
    as one tangent: an :class:`~srcad.runtime.Adjoints`."""
    if isinstance(values, np.ndarray):
        return values
    return Adjoints(values)


def unatleast(g, arys):
    """Adjoint of ``np.atleast_1d/2d/3d(*arys)``: each cotangent reshaped back
    (one array in gives one array out, several give a tuple)."""
    pieces = (g,) if len(arys) == 1 else g
    return Adjoints(np.reshape(np.asarray(p, dtype=np.result_type(p, float)), np.shape(x)) + 0.0
                    for p, x in zip(pieces, arys))


def unappend(g, arr, values, axis):
    """Adjoint of ``np.append(arr, values, axis)``: the two parts of ``g``."""
    if axis is None:
        n = np.size(arr)
        flat = np.ravel(g)
        return Adjoints((np.reshape(flat[:n], np.shape(arr)) + 0.0,
                         np.reshape(flat[n:], np.shape(values)) + 0.0))
    n = np.shape(arr)[axis]
    first, second = np.split(np.asarray(g, dtype=float), [n], axis)
    return Adjoints((first + 0.0, second + 0.0))


def uncolumn_stack(g, tup):
    """Adjoint of ``np.column_stack(tup)``: 1-d (and 0-d) arrays were columns."""
    widths = [np.shape(np.atleast_1d(x))[1] if np.ndim(x) >= 2 else 1 for x in tup]
    pieces = np.split(np.asarray(g, dtype=float), np.cumsum(widths)[:-1], axis=1)
    return Adjoints(np.reshape(p, np.shape(x)) + 0.0 for p, x in zip(pieces, tup))


def select_share(g, condlist, k):
    """The part of ``g`` that ``np.select(condlist, choicelist, default)`` took
    from choice ``k`` (``k = len(condlist)``: from the default): where the
    ``k``-th condition is the first true one; ``k = -1``: where none is."""
    k = len(condlist) if k < 0 else k
    zero = np.zeros(np.shape(g))
    choices = [g if j == k else zero for j in range(len(condlist))]
    return np.select(condlist, choices, g if k == len(condlist) else zero)


def select_adjoint(g, condlist, choicelist):
    """The cotangents of every choice of ``np.select`` (an Adjoints)."""
    return Adjoints(unbroadcast(select_share(g, condlist, k), c) for k, c in enumerate(choicelist))


def select_tangent(condlist, choicelist_dot, like):
    """The choices' contribution to the tangent of ``np.select``."""
    zero = np.zeros(np.shape(like))
    return np.select(condlist, [zero + d for d in choicelist_dot], zero)


def select_default_tangent(condlist, default_dot, like):
    """The default's contribution to the tangent of ``np.select``."""
    zero = np.zeros(np.shape(like))
    return np.select(condlist, [zero] * len(condlist), zero + (0.0 if default_dot is None else default_dot))


def cast_factor(dtype):
    """1.0 when casting to ``dtype`` keeps the value (a float or complex type),
    0.0 when it rounds (integers, booleans: a piecewise-constant function)."""
    return 1.0 if np.dtype(dtype).kind in "fc" else 0.0


def cumprod_adjoint(g, a, ans, axis):
    """Cotangent of ``a`` in ``ans = np.cumprod(a, axis)``.

    ``d ans[j] / d a[i]`` for ``i <= j`` is the product of ``a[:j + 1]``
    without ``a[i]``: ``ans[j] / a[i]`` when ``a[i] != 0``, summed in reverse as
    in autograd; where ``a`` has zeros each such product is formed exactly.
    """
    a = np.asarray(a, dtype=np.result_type(a, float))
    if axis is None:
        return np.reshape(cumprod_adjoint(np.ravel(g), np.ravel(a), np.ravel(ans), 0), np.shape(a))
    g = np.asarray(g, dtype=float)
    if np.all(a != 0):
        suffix = np.flip(np.cumsum(np.flip(g * ans, axis), axis), axis)
        return suffix / a
    moved_a, moved_g = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
    out = np.zeros_like(moved_a)
    for i in range(moved_a.shape[-1]):
        others = moved_a.copy()
        others[..., i] = 1.0
        products = np.cumprod(others, axis=-1)
        out[..., i] = np.sum((moved_g * products)[..., i:], axis=-1)
    return np.moveaxis(out, -1, axis)


def cumprod_tangent(a_dot, a, ans, axis):
    """Tangent of ``np.cumprod(a, axis)``: the transpose of :func:`cumprod_adjoint`."""
    a = np.asarray(a, dtype=np.result_type(a, float))
    if axis is None:
        return cumprod_tangent(np.ravel(a_dot), np.ravel(a), np.ravel(ans), 0)
    if np.all(a != 0):
        return ans * np.cumsum(a_dot / a, axis)
    moved_a = np.moveaxis(a, axis, -1)
    moved_dot = np.moveaxis(np.broadcast_to(a_dot, np.shape(a)), axis, -1)
    out = np.zeros_like(moved_a)
    n = moved_a.shape[-1]
    for i in range(n):
        others = moved_a.copy()
        others[..., i] = 1.0
        products = np.cumprod(others, axis=-1)
        later = np.arange(n) >= i
        out = out + moved_dot[..., i:i + 1] * products * later
    return np.moveaxis(out, -1, axis)


def nan_count(a, axis, keepdims):
    """How many non-NaN elements each output of ``np.nanmean(a, axis)`` averages."""
    return np.sum(~np.isnan(a), axis=axis, keepdims=keepdims)


def average_weights(a, axis, weights):
    """``weights`` shaped to broadcast against ``a`` (NumPy allows 1-d weights
    along ``axis``), and their sum over the averaged axes (kept)."""
    w = np.asarray(weights, dtype=float)
    if np.shape(w) != np.shape(a):
        if axis is None or np.ndim(w) != 1:
            raise UnsupportedArgumentError(   # NumPy refuses these calls itself
                "np.average needs weights shaped like a, or 1-d along one axis")
        shape = [1] * np.ndim(a)
        shape[axis] = np.size(w)
        w = np.reshape(w, shape)
    total = np.sum(np.broadcast_to(w, np.shape(a)), axis=axis, keepdims=True)
    return np.broadcast_to(w, np.shape(a)), total


def refuse_returned(returned):
    """np.average(..., returned=True) returns a pair: refused."""
    if returned:
        raise UnsupportedArgumentError(
            "srcad differentiates np.average(..., returned=False) only",
            hint="compute the sum of the weights separately with np.sum")
    return 0


def sinc_derivative(x):
    """d/dx sin(pi x) / (pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * x) - np.sinc(x)) / safe)


def convolve_embed(g, n, m, mode):
    """The cotangent of ``np.convolve(a, v, mode)`` (``n = len(a)``,
    ``m = len(v)``) as one of the full convolution, zeros outside the part
    ``mode`` kept."""
    full = n + m - 1
    out = np.zeros(full)
    g = np.atleast_1d(np.asarray(g, dtype=float))
    if mode == "full":
        return g + 0.0
    start = min(n, m) - 1 if mode == "valid" else (min(n, m) - 1) // 2
    out[start:start + len(g)] = g
    return out


def convolve_adjoint(g, a, v, mode, which):
    """Cotangent of ``a`` (``which`` 0) or ``v`` (1) in ``np.convolve(a, v, mode)``:
    ``ga[i] = sum_j g_full[i + j] v[j]``, a valid correlation."""
    n, m = np.size(a), np.size(v)
    full = convolve_embed(g, n, m, mode)
    other = v if which == 0 else a
    return np.correlate(full, np.atleast_1d(np.asarray(other, dtype=float)), "valid")


def unmeshgrid(g, xi, indexing, sparse):
    """Adjoint of ``np.meshgrid(*xi, indexing=...)``: each coordinate array gets
    the sum of its grid's cotangent over the other axes."""
    n = len(xi)
    out = []
    for k, (gk, x) in enumerate(zip(g, xi)):
        axis = k
        if indexing == "xy" and n > 1 and k < 2:
            axis = 1 - k
        gk = np.asarray(gk, dtype=float)
        others = tuple(i for i in range(gk.ndim) if i != axis)
        out.append(np.reshape(np.sum(gk, axis=others), np.shape(x)))
    return Adjoints(out)


def diff_adjoint(g, a, n, axis, prepend, append):
    """Cotangent of ``a`` in ``np.diff(a, n, axis, prepend, append)``: the
    transpose of a first difference, ``-g[i] + g[i - 1]``, applied ``n`` times,
    then the prepended and appended parts cut off."""
    g = np.asarray(g, dtype=float)
    for _ in range(n):
        widths = [(0, 0)] * g.ndim
        widths[axis] = (1, 1)
        padded = np.pad(g, widths)
        g = np.take(padded, np.arange(0, padded.shape[axis] - 1), axis=axis) \
            - np.take(padded, np.arange(1, padded.shape[axis]), axis=axis)
    before = 0 if prepend is None else (1 if np.ndim(prepend) == 0 else np.shape(prepend)[axis])
    length = np.shape(a)[axis]
    return np.take(g, np.arange(before, before + length), axis=axis)


def diff_tangent(a_dot, n, axis, prepend, append):
    """Tangent of ``np.diff``: the same differences of ``a_dot``, with zeros
    for the constant prepended and appended values."""
    a_dot = np.asarray(a_dot, dtype=float)
    parts = []
    for extra in (prepend, None, append):
        if extra is not None:
            shape = list(a_dot.shape)
            shape[axis] = 1 if np.ndim(extra) == 0 else np.shape(extra)[axis]
            parts.append(np.zeros(shape))
        elif not parts or len(parts) == (0 if prepend is None else 1):
            parts.append(a_dot)
    return np.diff(np.concatenate(parts, axis=axis), n, axis)


def _gradient_axes(f, axis):
    if axis is None:
        return tuple(range(np.ndim(f)))
    return tuple(a % np.ndim(f) for a in ((axis,) if np.ndim(axis) == 0 else axis))


def gradient_matrix(n, spacing, edge_order):
    """The ``n x n`` matrix that ``np.gradient`` applies along one axis with this
    spacing (a number or the coordinates), column ``j`` its response to ``e_j``."""
    return np.gradient(np.eye(n), *([] if spacing is None else [spacing]), axis=0,
                       edge_order=edge_order)


def gradient_adjoint(g, f, varargs, axis, edge_order):
    """Cotangent of ``f`` in ``np.gradient(f, *varargs, axis, edge_order)``:
    along each axis ``np.gradient`` is a matrix ``D``; its transpose is applied
    to the cotangent of that axis's derivative, and the axes add up."""
    axes = _gradient_axes(f, axis)
    pieces = (g,) if len(axes) == 1 and not isinstance(g, (tuple, list)) else tuple(g)
    spacings = list(varargs) if len(varargs) > 1 else [varargs[0] if varargs else None] * len(axes)
    out = np.zeros(np.shape(f))
    for gk, ax, spacing in zip(pieces, axes, spacings):
        D = gradient_matrix(np.shape(f)[ax], spacing, edge_order)
        out = out + np.moveaxis(np.tensordot(D.T, np.asarray(gk, dtype=float), axes=([1], [ax])), 0, ax)
    return out


def kron_adjoint(g, a, b, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in ``np.kron(a, b)``:
    ``g`` seen with interleaved axes ``(a0, b0, a1, b1, ...)`` is contracted
    with the other factor."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    G = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    if which == 0:
        other = np.reshape(b, [n for s in sb for n in (1, s)])
        out = np.sum(G * other, axis=tuple(range(1, 2 * nd, 2)))
        return np.reshape(out, np.shape(a)) + 0.0
    other = np.reshape(a, [n for s in sa for n in (s, 1)])
    out = np.sum(G * other, axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(out, np.shape(b)) + 0.0


def cross_adjoint(g, a, b, axisa, axisb, axisc, axis, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in ``np.cross``:
    ``<g, a x b> = <a, b x g> = <b, g x a>``, with 2-vectors as 3-vectors whose
    third component is 0 (then a 2-d cross product is the third component)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    A = np.moveaxis(np.asarray(a, dtype=float), axisa, -1)
    B = np.moveaxis(np.asarray(b, dtype=float), axisb, -1)
    planar = A.shape[-1] == 2 and B.shape[-1] == 2
    A3 = _to3(A)
    B3 = _to3(B)
    if planar:
        G = np.asarray(g, dtype=float)[..., None] * np.array([0.0, 0.0, 1.0])
    else:
        G = np.moveaxis(np.asarray(g, dtype=float), axisc, -1)
    if which == 0:
        grad = np.cross(B3, G)[..., :A.shape[-1]]
        return np.moveaxis(unbroadcast(grad, A), -1, axisa)
    grad = np.cross(G, A3)[..., :B.shape[-1]]
    return np.moveaxis(unbroadcast(grad, B), -1, axisb)


def _to3(v):
    if v.shape[-1] == 3:
        return v
    return np.concatenate([v, np.zeros(v.shape[:-1] + (1,))], axis=-1)


def tensordot_subscripts(a, b, axes):
    """``np.tensordot(a, b, axes)`` as einsum subscripts."""
    na, nb = np.ndim(a), np.ndim(b)
    if np.ndim(axes) == 0:
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
        axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
    axes_a = [x % na for x in axes_a]
    axes_b = [x % nb for x in axes_b]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for x, y in zip(axes_a, axes_b):
        sb[y] = sa[x]
    out = [c for i, c in enumerate(sa) if i not in axes_a] + [c for i, c in enumerate(sb) if i not in axes_b]
    return "".join(sa) + "," + "".join(sb) + "->" + "".join(out)


def unbroadcast_weights(full, weights, axis):
    """A cotangent shaped like ``a`` summed to the shape of ``np.average``'s
    ``weights`` (``a``'s shape, or 1-d along ``axis``)."""
    if np.shape(weights) == np.shape(full):
        return full
    others = tuple(i for i in range(np.ndim(full)) if i != axis % np.ndim(full))
    return np.reshape(np.sum(full, axis=others), np.shape(weights))


def sum_kept(total, axis, keepdims):
    """The sum of the weights (kept dimensions) shaped like ``np.average``'s result."""
    return total if keepdims else np.squeeze(total, axis=axis)


def reshape_weights(weights_dot, a, axis):
    """The tangent of ``np.average``'s weights broadcast against ``a``."""
    return average_weights(a, axis, weights_dot)[0]


def tensordot_adjoint(g, a, b, axes, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in ``np.tensordot(a, b, axes)``,
    through the einsum it is."""
    spec = tensordot_subscripts(a, b, axes)
    inputs, output = spec.split("->")
    return einsum_operand_adjoint(g, which, inputs.split(","), output,
                                  [np.asarray(a, dtype=float), np.asarray(b, dtype=float)])


# --- linear algebra --------------------------------------------------------------------

def _T(x):
    return np.swapaxes(x, -1, -2)


def _eye_like(x):
    return np.eye(np.shape(x)[-1])


def _off_diagonal_inverse(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (stacked)."""
    difference = w[..., None, :] - w[..., :, None]
    n = np.shape(w)[-1]
    safe = np.where(np.eye(n, dtype=bool), 1.0, difference)
    return np.where(np.eye(n, dtype=bool), 0.0, 1.0 / safe)


def symmetric_part_read(t, UPLO):
    """The symmetric matrix NumPy's ``eigh`` sees when ``a`` moves along ``t``:
    it reads one triangle only."""
    if UPLO.upper() == "L":
        return np.tril(t) + _T(np.tril(t, -1))
    return np.triu(t) + _T(np.triu(t, 1))


def triangle_gradient(S, UPLO):
    """The gradient with respect to the triangle ``eigh`` reads, from a gradient
    ``S`` valid for symmetric perturbations: an off-diagonal entry stands for
    both ``a[i, j]`` and ``a[j, i]``."""
    full = S + _T(S)
    diagonal = np.eye(np.shape(S)[-1]) * S
    if UPLO.upper() == "L":
        return np.tril(full, -1) + diagonal
    return np.triu(full, 1) + diagonal


def eigh_adjoint(g, ans, UPLO):
    """Cotangent of ``a`` in ``w, v = np.linalg.eigh(a)``:
    ``v (diag(gw) + F o (v^T gv)) v^T`` with ``F[i, j] = 1 / (w[j] - w[i])``
    (distinct eigenvalues), restricted to the triangle NumPy reads."""
    w, v = ans[0], ans[1]
    gw, gv = g[0], g[1]
    inner = _T(v) @ gv * _off_diagonal_inverse(w) + np.expand_dims(gw, -1) * np.eye(np.shape(w)[-1])
    return triangle_gradient(v @ inner @ _T(v), UPLO)


def eigh_tangent(a_dot, ans, UPLO):
    """Tangent of ``(w, v) = np.linalg.eigh(a)``: ``dw = diag(v^T dA v)``,
    ``dv = v (F o (v^T dA v))``."""
    w, v = ans[0], ans[1]
    rotated = _T(v) @ symmetric_part_read(a_dot, UPLO) @ v
    return Adjoints((np.diagonal(rotated, 0, -2, -1) + 0.0, v @ (rotated * _off_diagonal_inverse(w))))


def eigvalsh_adjoint(g, a, UPLO):
    w, v = np.linalg.eigh(a, UPLO)
    return triangle_gradient(v @ (np.expand_dims(g, -1) * _T(v)), UPLO)


def eigvalsh_tangent(a_dot, a, UPLO):
    w, v = np.linalg.eigh(a, UPLO)
    return np.diagonal(_T(v) @ symmetric_part_read(a_dot, UPLO) @ v, 0, -2, -1) + 0.0


def _svd_parts(a, full_matrices, hermitian):
    if hermitian:
        raise UnsupportedArgumentError(
            "srcad differentiates np.linalg.svd with hermitian=False only",
            hint="np.linalg.eigh differentiates the decomposition of a symmetric matrix")
    return np.linalg.svd(a, full_matrices=False)


def _svd_check_full(g_u, g_vh, m, n, k):
    """With full_matrices=True the extra columns of U (or rows of Vh) of a
    non-square matrix are not unique: only a zero cotangent on them is allowed."""
    extra = [g_u[..., :, k:] if m > k else None, g_vh[..., k:, :] if n > k else None]
    if any(e is not None and np.any(e != 0) for e in extra):
        raise UnsupportedArgumentError(
            "the derivative of the extra singular vectors of np.linalg.svd(a, full_matrices=True) "
            "does not exist for a non-square a (they are not unique)",
            hint="use full_matrices=False, or only the first min(m, n) columns of U and rows of Vh")


def svd_adjoint(g, a, full_matrices, compute_uv, hermitian):
    """Cotangent of ``a`` in ``np.linalg.svd(a)`` (J. Townsend, "Differentiating
    the singular value decomposition", 2016), for distinct nonzero singular
    values: ``U [(F o (U^T gU - gU^T U)) S + diag(gS) + S (F o (V^T gV - gV^T V))] V^T``
    plus the parts of ``gU``, ``gV`` outside the spans of ``U``, ``V``."""
    u, s, vh = _svd_parts(a, full_matrices, hermitian)
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    if not compute_uv:
        return u @ (np.expand_dims(g, -1) * vh)
    g_u, g_s, g_vh = g[0], g[1], g[2]
    if full_matrices:
        _svd_check_full(g_u, g_vh, m, n, k)
        g_u, g_vh = g_u[..., :, :k], g_vh[..., :k, :]
    v, g_v = _T(vh), _T(g_vh)
    s2 = s * s
    F = _off_diagonal_inverse(s2)
    S = np.expand_dims(s, -1) * np.eye(k)
    J = F * (_T(u) @ g_u - _T(g_u) @ u)
    K = F * (_T(v) @ g_v - _T(g_v) @ v)
    core = u @ (J @ S + np.expand_dims(g_s, -1) * np.eye(k) + S @ K) @ vh
    inv_s = 1.0 / s
    left = (np.eye(m) - u @ _T(u)) @ g_u @ (np.expand_dims(inv_s, -1) * vh)
    right = (u * inv_s[..., None, :]) @ _T(g_v) @ (np.eye(n) - v @ vh)
    return core + left + right


def svd_tangent(a_dot, a, full_matrices, compute_uv, hermitian):
    """Tangent of ``np.linalg.svd(a)``: ``dP = U^T dA V``, ``dS = diag(dP)``,
    ``dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1``,
    ``dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1``."""
    u, s, vh = _svd_parts(a, full_matrices, hermitian)
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    v = _T(vh)
    dP = _T(u) @ a_dot @ v
    ds = np.diagonal(dP, 0, -2, -1) + 0.0
    if not compute_uv:
        return ds
    if full_matrices and m != n:
        raise UnsupportedArgumentError(
            "the derivative of the extra singular vectors of np.linalg.svd(a, full_matrices=True) "
            "does not exist for a non-square a (they are not unique)",
            hint="use full_matrices=False")
    F = _off_diagonal_inverse(s * s)
    S = np.expand_dims(s, -1) * np.eye(k)
    inv_s = 1.0 / s
    du = u @ (F * (dP @ S + S @ _T(dP))) + (np.eye(m) - u @ _T(u)) @ a_dot @ (v * inv_s[..., None, :])
    dv = v @ (F * (S @ dP + _T(dP) @ S)) + (np.eye(n) - v @ vh) @ _T(a_dot) @ (u * inv_s[..., None, :])
    return Adjoints((du, ds, _T(dv)))


def _qr_mode(a, mode):
    m, n = np.shape(a)[-2:]
    if mode not in ("reduced", "complete", "r") or m < n or (mode == "complete" and m != n):
        raise UnsupportedArgumentError(
            f"srcad differentiates np.linalg.qr of an m x n matrix with m >= n in the modes "
            f"'reduced' and 'r' (and 'complete' when square), not mode={mode!r} on {m} x {n}",
            hint="for m < n, differentiate the QR of the transpose, or use mode='reduced'")
    return np.linalg.qr(a, mode="reduced")


def _copyltu(M):
    return np.tril(M, -1) + _T(np.tril(M, -1)) + np.eye(np.shape(M)[-1]) * M


def qr_adjoint(g, a, mode):
    """Cotangent of ``a`` in ``q, r = np.linalg.qr(a)``, m >= n:
    ``(gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q`` (the lower
    triangle mirrored), as in PyTorch and JAX."""
    q, r = _qr_mode(a, mode)
    if mode == "r":
        g_q, g_r = np.zeros(np.shape(q)), g
    else:
        g_q, g_r = g[0], g[1]
    M = r @ _T(g_r) - _T(g_q) @ q
    return _T(np.linalg.solve(r, _T(g_q + q @ _copyltu(M))))


def qr_tangent(a_dot, a, mode):
    """Tangent of ``np.linalg.qr(a)``: with ``X = Q^T dA R^-1`` and ``W`` its
    strictly lower part minus its transpose (skew),
    ``dQ = Q (W - X) + dA R^-1`` and ``dR = (X - W) R``."""
    q, r = _qr_mode(a, mode)
    dA_rinv = _T(np.linalg.solve(_T(r), _T(a_dot)))
    X = _T(q) @ dA_rinv
    W = np.tril(X, -1) - _T(np.tril(X, -1))
    dr = (X - W) @ r
    if mode == "r":
        return dr
    return Adjoints((q @ (W - X) + dA_rinv, dr))


def pinv_adjoint(g, a, ans):
    """Cotangent of ``a`` in ``P = np.linalg.pinv(a)`` for ``a`` of full rank:
    from ``dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P``."""
    P, m, n = ans, np.shape(a)[-2], np.shape(a)[-1]
    return (-_T(P) @ g @ _T(P) + (np.eye(m) - a @ P) @ _T(g) @ P @ _T(P)
            + _T(P) @ P @ _T(g) @ (np.eye(n) - P @ a))


def pinv_tangent(a_dot, a, ans):
    P, m, n = ans, np.shape(a)[-2], np.shape(a)[-1]
    return (-P @ a_dot @ P + P @ _T(P) @ _T(a_dot) @ (np.eye(m) - a @ P)
            + (np.eye(n) - P @ a) @ _T(a_dot) @ _T(P) @ P)


def refuse_pinv_options(hermitian):
    if hermitian:
        raise UnsupportedArgumentError("srcad differentiates np.linalg.pinv with hermitian=False only")
    return 0.0


def matrix_power_adjoint(g, a, n):
    """Cotangent of ``a`` in ``a^n``: ``sum_k (a^T)^k g (a^T)^(n-1-k)``; for
    ``n < 0`` through ``b = a^-1`` (``db = -b da b``)."""
    if n == 0:
        return np.zeros(np.shape(a))
    if n < 0:
        b = np.linalg.inv(a)
        gb = matrix_power_adjoint(g, b, -n)
        return -_T(b) @ gb @ _T(b)
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum(_T(powers[k]) @ g @ _T(powers[n - 1 - k]) for k in range(n))


def matrix_power_tangent(a_dot, a, n):
    if n == 0:
        return np.zeros(np.shape(a))
    if n < 0:
        b = np.linalg.inv(a)
        return matrix_power_tangent(-b @ a_dot @ b, b, -n)
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum(powers[k] @ a_dot @ powers[n - 1 - k] for k in range(n))


def eig_real(a):
    """``np.linalg.eig(a)``, refused unless every eigenvalue is real."""
    w, v = np.linalg.eig(a)
    if np.iscomplexobj(w) and not np.any(w.imag):    # newer NumPy: complex arrays, real values
        w, v = w.real, v.real
    if np.iscomplexobj(w):
        raise UnsupportedArgumentError(
            "srcad differentiates np.linalg.eig of matrices with real eigenvalues only",
            hint="for a symmetric matrix use np.linalg.eigh")
    return w, v


def eig_adjoint(g, a, ans):
    """Cotangent of ``a`` in ``w, v = np.linalg.eig(a)`` (real, distinct
    eigenvalues, unit-norm eigenvectors): with ``gv' = gv - v diag(v^T gv)``
    (the normalisation), ``v^-T (diag(gw) + F o (v^T gv')) v^T``."""
    w, v = eig_real(a)
    g_w, g_v = g[0], g[1]
    g_v = g_v - v * np.sum(v * g_v, axis=-2, keepdims=True)
    inner = np.expand_dims(g_w, -1) * np.eye(np.shape(w)[-1]) + _off_diagonal_inverse(w) * (_T(v) @ g_v)
    return np.linalg.solve(_T(v), inner @ _T(v))


def eig_tangent(a_dot, a, ans):
    """Tangent of ``np.linalg.eig(a)``: ``dw = diag(v^-1 dA v)``,
    ``dv = v (F o v^-1 dA v)`` minus its component along each (unit) ``v``."""
    w, v = eig_real(a)
    rotated = np.linalg.solve(v, a_dot @ v)
    dv = v @ (_off_diagonal_inverse(w) * rotated)
    dv = dv - v * np.sum(v * dv, axis=-2, keepdims=True)
    return Adjoints((np.diagonal(rotated, 0, -2, -1) + 0.0, dv))


def eigvals_adjoint(g, a):
    return eig_adjoint((g, np.zeros(np.shape(a))), a, None)


def eigvals_tangent(a_dot, a):
    return eig_tangent(a_dot, a, None)[0]


def _lstsq_columns(a, b, x):
    """What the adjoint and the tangent of ``x = np.linalg.lstsq(a, b)[0]`` both
    read: ``pinv(a)``, whether ``b`` is a vector, ``x`` and ``b`` as columns and
    the residual ``b - a x``."""
    P = np.linalg.pinv(a)
    vector = np.ndim(b) == 1
    X = x[:, None] if vector else x
    B = b[:, None] if vector else b
    return P, vector, X, B, B - a @ X


def lstsq_adjoint(g, a, b, ans, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in
    ``x, residuals, rank, s = np.linalg.lstsq(a, b)`` for ``a`` of full
    column rank: ``x = pinv(a) b``, residuals ``|b - a x|^2`` (whose derivative
    is ``2 r^T (db - dA x)`` since ``a^T r = 0``), the singular values ``s``
    as in :func:`svd_adjoint`; ``rank`` is an integer."""
    g_x, g_res, g_s = g[0], g[1], g[3]
    P, vector, X, B, R = _lstsq_columns(a, b, ans[0])
    G = g_x[:, None] if vector else g_x
    res = np.size(ans[1]) > 0
    if which == 1:
        out = _T(P) @ G
        if res:
            out = out + 2.0 * R * g_res
        return out[:, 0] if vector else out
    out = pinv_adjoint(G @ _T(B), a, P)
    if res:
        out = out - 2.0 * (R * g_res) @ _T(X)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return out + u @ (np.expand_dims(g_s, -1) * vh)


def lstsq_tangent(a_dot, b_dot, a, b, ans):
    """Tangent of ``np.lstsq``'s results (``rank`` gets a zero tangent)."""
    x, residuals, rank, s = ans
    P, vector, X, B, R = _lstsq_columns(a, b, x)
    dB = b_dot[:, None] if vector else b_dot
    dX = pinv_tangent(a_dot, a, P) @ B + P @ dB
    dres = 2.0 * np.sum(R * (dB - a_dot @ X), axis=0) if np.size(residuals) else np.zeros(np.shape(residuals))
    u, sv, vh = np.linalg.svd(a, full_matrices=False)
    ds = np.diagonal(_T(u) @ a_dot @ _T(vh)) + 0.0
    return Adjoints((dX[:, 0] if vector else dX, dres, np.zeros(np.shape(rank)), ds))


def slogdet_tangent(a_dot, a, ans):
    """``(sign, log|det a|)``: the sign is constant, ``d log|det a| = tr(a^-1 da)``."""
    return Adjoints((np.zeros(np.shape(ans[0])),
                     np.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)))


# --- np.linalg.norm: every ord, axis and keepdims -------------------------------------

def norm_axes(x, ord, axis):
    """The axes ``np.linalg.norm(x, ord, axis)`` reduces, as a tuple: one axis
    for a vector norm, two for a matrix norm (the whole array for ``ord=None``
    without ``axis``)."""
    n = np.ndim(x)
    if axis is None:
        if ord is None or n == 1:
            return tuple(range(n))
        return (0, 1)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(a) % n for a in axes)


def norm_error(ord, kind):
    """The error for an ``ord`` NumPy has no such norm for."""
    return UnsupportedArgumentError(f"np.linalg.norm has no {kind} norm ord={ord!r}")


def _shares(values, extreme, axes):
    """1 / k on the ``k`` entries of ``values`` equal to ``extreme`` (a tie
    shares the derivative evenly, as for np.max), 0 elsewhere."""
    hit = values == extreme
    return hit / np.sum(hit, axis=axes, keepdims=True)


def norm_factor(ans, x, ord=None, axis=None):
    """The derivative of ``np.linalg.norm(x, ord, axis, keepdims=True)``
    with respect to ``x``, shaped like ``x``: multiply by the (kept)
    cotangent for the gradient, sum against a tangent for the forward rule.

    Vector norms: ``sign(x) |x|^(p-1) / |x|_p^(p-1)`` (``x / |x|`` for 2), the
    tied largest (smallest) ``|x|`` share for ``inf`` (``-inf``), 0 for
    ``ord=0`` (a count).  Matrix norms: ``x / |x|_F``; ``U V^T`` for the
    nuclear norm, ``u_1 v_1^T`` (``u_k v_k^T``) for ``2`` (``-2``); for
    ``1``/``-1``/``inf``/``-inf`` the sign of ``x`` in the column (row) of
    largest or smallest absolute sum.  At ``x = 0`` the 2-norms give 0, as
    ``abs'(0) = 0``.
    """
    x = np.asarray(x, dtype=float)
    axes = norm_axes(x, ord, axis)
    kept = np.asarray(ans, dtype=float)
    if np.ndim(kept) != x.ndim:
        kept = np.expand_dims(kept, axes) if x.ndim else kept
    safe = np.where(kept == 0, 1.0, kept)
    if len(axes) != 2 or axis is None and ord is None:
        if ord is None or ord == 2 or (isinstance(ord, str) and ord == "fro"):
            return x / safe
        if ord == np.inf:
            return np.sign(x) * _shares(np.abs(x), kept, axes)
        if ord == -np.inf:
            return np.sign(x) * _shares(np.abs(x), kept, axes)
        if ord == 0:
            return np.zeros(x.shape)
        if isinstance(ord, str):
            raise norm_error(ord, "vector")
        return np.sign(x) * np.abs(x) ** (ord - 1) / safe ** (ord - 1)
    r, c = axes
    if ord is None or (isinstance(ord, str) and ord == "fro"):
        return x / safe
    if isinstance(ord, str) and ord == "nuc" or ord in (2, -2):
        moved = np.moveaxis(x, (r, c), (-2, -1))
        u, s, vh = np.linalg.svd(moved, full_matrices=False)
        if ord == 2:
            factor = u[..., :, :1] @ vh[..., :1, :]
        elif ord == -2:
            factor = u[..., :, -1:] @ vh[..., -1:, :]
        else:
            factor = u @ vh
        return np.moveaxis(factor, (-2, -1), (r, c))
    if ord in (1, -1):
        sums = np.sum(np.abs(x), axis=r, keepdims=True)
        return np.sign(x) * _shares(sums, kept, c)
    if ord in (np.inf, -np.inf):
        sums = np.sum(np.abs(x), axis=c, keepdims=True)
        return np.sign(x) * _shares(sums, kept, r)
    raise norm_error(ord, "matrix")


def norm_adjoint(g, ans, x, ord, axis, keepdims):
    """Cotangent of ``x`` in ``np.linalg.norm(x, ord, axis, keepdims)``."""
    axes = norm_axes(x, ord, axis)
    kept_g = g if keepdims or not np.ndim(x) else np.expand_dims(g, axes)
    kept_ans = ans if keepdims or not np.ndim(x) else np.expand_dims(ans, axes)
    return kept_g * norm_factor(kept_ans, x, ord, axis)


def norm_tangent(x_dot, ans, x, ord, axis, keepdims):
    """Tangent of ``np.linalg.norm``: the derivative summed against ``x_dot``."""
    axes = norm_axes(x, ord, axis)
    kept_ans = ans if keepdims or not np.ndim(x) else np.expand_dims(ans, axes)
    return np.sum(norm_factor(kept_ans, x, ord, axis) * x_dot, axis=axes, keepdims=keepdims)


# --- np.r_[...] and np.c_[...]: the graph turns them into calls of these -------------------

def r_concat(*items):
    """``np.r_[items]`` as a function (the graph rewrites ``np.r_[x, y]`` to
    ``r_concat(x, y)``, so that the items are arguments with a derivative)."""
    return np.r_[items]


def c_concat(*items):
    """``np.c_[items]`` as a function."""
    return np.c_[items]


INDEX_CONCATENATIONS = {id(np.r_): r_concat, id(np.c_): c_concat}


def _concat_pieces(items):
    """``(item, offset, n)`` for each of ``items``: where its ``n`` elements start
    among the items' flattened elements, one after the other (``None, None``
    for a directive string)."""
    offset = 0
    for item in items:
        if isinstance(item, str):
            yield item, None, None
            continue
        n = int(np.size(item))
        yield item, offset, n
        offset += n


def _concat_index(maker, items):
    """Where each element of ``maker[items]`` comes from (1-based positions in
    the items' flattened elements, one after the other): ``np.r_`` and ``np.c_``
    only copy elements, whatever the directive strings say."""
    ids, total = [], 0
    for item, offset, n in _concat_pieces(items):
        if n is None:
            ids.append(item)
            continue
        ids.append(np.arange(offset + 1, offset + n + 1).reshape(np.shape(item)))
        total = offset + n
    return np.asarray(maker[tuple(ids)]), total


def concat_adjoint(g, items, maker):
    """The cotangents of the items of ``np.r_[items]`` (``maker`` is np.r_ or np.c_)."""
    index, total = _concat_index(maker, items)
    flat = np.bincount(np.ravel(index), weights=np.ravel(np.asarray(g, dtype=float)), minlength=total + 1)[1:]
    out = []
    for item, offset, n in _concat_pieces(items):
        if n is None:
            out.append(None)
            continue
        piece = flat[offset:offset + n].reshape(np.shape(item))
        out.append(float(piece) if isinstance(item, float) else piece)
    return Adjoints(out)


def concat_tangent(items_dot, items, maker):
    """The tangent of ``np.r_[items]``: the tangents arranged the same way."""
    index, total = _concat_index(maker, items)
    flat = [np.ravel(np.broadcast_to(np.asarray(d, dtype=float), np.shape(x)))
            for d, x in zip(items_dot, items) if not isinstance(x, str)]
    return np.concatenate([[0.0]] + flat)[index]


# --- helpers srcad does not differentiate again --------------------------------------------
# A gradient calls these helpers; a second derivative (srcad.hessian, grad of grad)
# would have to differentiate their code, which uses what srcad refuses (loops over
# pieces, bincount, in-place writes).  They are marked, and the graph refuses them at
# the line of the gradient that calls them instead of reading their source.  Helpers
# left out of this list (eigh, eig, slogdet, matrix_power, norm, sort, the gathers)
# differentiate again, checked against finite differences in tests/test_numpy_rules.py.

FIRST_ORDER = [einsum_adjoint, einsum_tangent, einsum_operand_adjoint, tensordot_adjoint,
               svd_adjoint, svd_tangent, qr_adjoint, qr_tangent, pinv_adjoint, pinv_tangent,
               lstsq_adjoint, lstsq_tangent, unsplit, as_tangent, unatleast, unappend,
               uncolumn_stack, select_adjoint, select_share, select_tangent, select_default_tangent,
               cumprod_adjoint, cumprod_tangent, average_weights, unbroadcast_weights, reshape_weights,
               convolve_adjoint, unmeshgrid, diff_adjoint, diff_tangent, gradient_adjoint,
               kron_adjoint, cross_adjoint, concat_adjoint, concat_tangent, sinc_derivative]
for _helper in FIRST_ORDER:
    _helper.srcad_first_order = True
