"""How much of what autograd's test suite differentiates srcad differentiates.

The table below lists, as data, the functions that autograd's tests check
(tests/test_systematic.py, test_numpy.py, test_linalg.py, test_scipy.py of
github.com/HIPS/autograd), each with the shapes and keyword arguments those
tests use (real inputs only: srcad differentiates real functions).  Every entry
becomes a small function ``f(x, ...) = sum(w * <expression>)`` with a fixed
random ``w``; srcad's gradient (``srcad.grad``) and its forward-mode
derivative (``srcad.jvp`` along a random direction) are compared with central
finite differences in float64.  An entry is

- ``ok``       when srcad's result matches finite differences,
- ``refused``  when srcad raises one of its own errors (a ``SrcadError``),
- ``wrong``    when the result does not match,
- ``crash``    when anything else is raised.

A function counts as differentiated correctly when every one of its entries is
``ok`` in both modes.  Run::

    python3 benchmarks/coverage_autograd.py            # summary
    python3 benchmarks/coverage_autograd.py -v         # every entry that is not ok
"""

import importlib.util
import os
import sys
import tempfile
import textwrap
from collections import Counter, defaultdict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import srcad  # noqa: E402
from srcad.errors import SrcadError  # noqa: E402

# --- inputs: a kind and a shape ------------------------------------------------------
# r: standard normal; p: positive (0.5 .. 2); u: inside (-0.9, 0.9); g1: above 1.1;
# o: inside (0.1, 0.9); dist: distinct values; spd: symmetric positive definite;
# sym: symmetric with distinct eigenvalues; wc: well conditioned; ds: full rank with
# distinct singular values; re: distinct real eigenvalues; band: banded, diagonally dominant.


def draw(kind, shape, rng):
    if kind == "r":
        return rng.standard_normal(shape)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "g1":
        return rng.uniform(1.1, 4.0, shape)
    if kind == "o":
        return rng.uniform(0.1, 0.9, shape)
    if kind == "dist":
        n = int(np.prod(shape))
        return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    if kind == "spd":
        m = rng.standard_normal(shape)
        return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])
    if kind == "sym":
        q, _ = np.linalg.qr(rng.standard_normal(shape))
        w = np.arange(1.0, shape[-1] + 1)
        return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    if kind == "wc":
        return rng.uniform(-0.5, 0.5, shape) + 2.0 * np.eye(shape[-1])
    if kind == "ds":
        m, n = shape[-2:]
        k = min(m, n)
        u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
        v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
        return (u * np.arange(1.0, k + 1)[..., None, :]) @ np.swapaxes(v, -1, -2)
    if kind == "re":
        n = shape[-1]
        s = rng.uniform(-1.0, 1.0, shape) + 2.0 * np.eye(n)
        return s @ (np.arange(1.0, n + 1)[:, None] * 1.3 * np.linalg.inv(s))
    if kind == "band":                  # a diagonally dominant banded matrix, (1, 1) storage
        ab = rng.uniform(-0.3, 0.3, shape)
        ab[1] += 3.0
        return ab
    raise ValueError(kind)


def S(*shape):
    return ("r",) + (shape,)


# --- the table: (function, expression of x, y, z, {argument: (kind, shape)}) ----------------

ENTRIES = []


def add(function, expression, **args):
    ENTRIES.append((function, expression, args))


# array statistics (stat_check): float, 0-d, vectors, matrices; axis None/0/1, keepdims
for fn, kind in [("np.max", "dist"), ("np.mean", "r"), ("np.min", "dist"), ("np.sum", "r"),
                 ("np.prod", "r"), ("np.var", "dist"), ("np.std", "dist")]:
    add(fn, f"{fn}(x)", x=(kind, (2, 3)))
    add(fn, f"{fn}(x, axis=0, keepdims=True)", x=(kind, (2, 3)))
    add(fn, f"{fn}(x, axis=1)", x=(kind, (1, 3)))
    add(fn, f"{fn}(x, axis=0)", x=(kind, (3,)))

# unary ufuncs (unary_ufunc_check): scalar, vector, matrices
UNARY = [("np.sin", "r"), ("np.abs", "p"), ("np.absolute", "p"), ("np.arccosh", "g1"), ("np.arcsinh", "u"),
         ("np.arctanh", "u"), ("np.ceil", "r"), ("np.cos", "r"), ("np.cosh", "r"), ("np.deg2rad", "r"),
         ("np.degrees", "r"), ("np.exp", "r"), ("np.exp2", "r"), ("np.expm1", "r"), ("np.fabs", "p"),
         ("np.floor", "r"), ("np.log", "p"), ("np.log10", "p"), ("np.log1p", "p"), ("np.log2", "p"),
         ("np.rad2deg", "r"), ("np.radians", "r"), ("np.sign", "r"), ("np.sinh", "r"), ("np.sqrt", "p"),
         ("np.square", "r"), ("np.tan", "u"), ("np.tanh", "r"), ("np.real", "r"), ("np.real_if_close", "r"),
         ("np.imag", "r"), ("np.conj", "r"), ("np.conjugate", "r"), ("np.angle", "r"),
         ("np.arcsin", "u"), ("np.arccos", "u"), ("np.arctan", "r"), ("np.reciprocal", "p"),
         ("np.negative", "r"), ("np.cbrt", "p"), ("np.sinc", "r")]
for fn, kind in UNARY:
    add(fn, f"{fn}(x)", x=(kind, ()))
    add(fn, f"{fn}(x)", x=(kind, (3, 2)))
    add(fn, f"{fn}(x)", x=(kind, (1, 2)))

# binary ufuncs and operators (binary_ufunc_check), with broadcasting
BINARY = [("np.add", "r", "r"), ("np.logaddexp", "r", "r"), ("np.logaddexp2", "r", "r"),
          ("np.remainder", "o", "g1"), ("np.true_divide", "r", "p"), ("np.mod", "o", "g1"),
          ("np.subtract", "r", "r"), ("np.multiply", "r", "r"), ("np.divide", "r", "p"),
          ("np.power", "p", "r"), ("np.arctan2", "r", "p"), ("np.hypot", "p", "r"),
          ("np.maximum", "dist", "dist"), ("np.minimum", "dist", "dist"), ("np.fmax", "dist", "dist"),
          ("np.fmin", "dist", "dist")]
for fn, kx, ky in BINARY:
    add(fn, f"{fn}(x, y)", x=(kx, (3, 2)), y=(ky, (3, 2)))
    add(fn, f"{fn}(x, y)", x=(kx, (3, 2)), y=(ky, (1, 2)))
    add(fn, f"{fn}(x, y)", x=(kx, ()), y=(ky, (2,)))
for op, kx, ky in [("+", "r", "r"), ("-", "r", "r"), ("*", "r", "r"), ("/", "r", "p"), ("%", "o", "g1"),
                   ("**", "p", "r")]:
    add(f"operator {op}", f"x {op} y", x=(kx, (3, 2)), y=(ky, (1, 2)))
    add(f"operator {op}", f"x {op} y", x=(kx, ()), y=(ky, (2,)))
add("operator @", "x @ y", x=S(2, 3), y=S(3, 4))
add("operator neg", "-x", x=S(3))

# shapes and products (test_systematic "misc" and test_numpy.py)
add("np.transpose", "np.transpose(x)", x=S(2, 3, 4))
add("np.transpose", "np.transpose(x, (2, 0, 1))", x=S(2, 3, 4))
add("np.moveaxis", "np.moveaxis(x, 0, 2)", x=S(2, 3, 4))
add("np.repeat", "np.repeat(x, 2)", x=S(2, 3, 4))
add("np.repeat", "np.repeat(x, 2, axis=1)", x=S(3, 1))
add("np.repeat", "np.repeat(x, 0, axis=0)", x=S(3, 1))
add("np.diff", "np.diff(x, n=2, axis=0)", x=S(5, 5))
add("np.diff", "np.diff(x, axis=1)", x=S(5, 5, 5))
add("np.diff", "np.diff(x, axis=0)", x=S(1))
add("np.gradient", "np.gradient(x, axis=0)", x=S(5, 5))
add("np.gradient", "np.gradient(x)[0] + np.gradient(x)[1] * 2.0", x=S(5, 5))
add("np.gradient", "np.gradient(x, axis=(0, -1))[1]", x=S(5, 5, 5))
add("np.tile", "np.tile(x, (1, 4, 1, 2))", x=S(2, 1, 3, 1))
add("np.tile", "np.tile(x, (3, 2, 1))", x=S(1, 2))
add("np.tile", "np.tile(x, 2)", x=S(1))
add("np.kron", "np.kron(x, y)", x=S(5, 5), y=S(3, 3))
add("np.kron", "np.kron(x, y)", x=S(5), y=S(3, 1))
add("np.kron", "np.kron(x, y)", x=S(), y=S(3))
add("np.inner", "np.inner(x, y)", x=S(2, 3), y=S(4, 3))
add("np.inner", "np.inner(x, y)", x=S(3), y=S(3))
add("np.dot", "np.dot(x, y)", x=S(2, 2, 3), y=S(2, 3, 4))
add("np.dot", "np.dot(x, y)", x=S(), y=S(3))
add("np.dot", "np.dot(x, y)", x=S(2, 3), y=S(3))
add("np.outer", "np.outer(x, y)", x=S(3), y=S(3))
add("np.matmul", "np.matmul(x, y)", x=S(2, 2, 3), y=S(2, 3, 4))
add("np.matmul", "np.matmul(x, y)", x=S(1, 2, 2), y=S(3, 2, 1))
add("np.matmul", "np.matmul(x, y)", x=S(3), y=S(3, 4))
add("np.tensordot", "np.tensordot(x, y, axes=((1,), (0,)))", x=S(2, 3, 2), y=S(3, 4, 2))
add("np.tensordot", "np.tensordot(x, y, axes=((0, 1), (1, 2)))", x=S(2, 3), y=S(1, 2, 3))
add("np.tensordot", "np.tensordot(x, y, axes=2)", x=S(4, 2, 2), y=S(2, 2, 4))
add("np.tensordot", "np.tensordot(x, y, axes=0)", x=S(4), y=S())
add("np.tensordot", "np.tensordot(x, y, axes=[-1, 0])", x=S(2, 6), y=S(6, 3))
add("np.sort", "np.sort(x)", x=("dist", (7,)))
add("np.partition", "np.partition(x, 3)", x=("dist", (14,)))
for k in (1, 2, 3):
    add(f"np.atleast_{k}d", f"np.atleast_{k}d(x)", x=S())
    add(f"np.atleast_{k}d", f"np.atleast_{k}d(x)", x=S(2, 4, 5))
    add(f"np.atleast_{k}d", f"np.atleast_{k}d(x)", x=S(7))
for subscripts, shapes in [("ij->ji", [(3, 4)]), ("ij,jk->ik", [(2, 3), (3, 4)]),
                           ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]), ("ijk,lji->lki", [(3, 4, 4), (4, 4, 3)]),
                           ("...jk,...lj->...lk", [(3, 4, 4), (4, 4)]), ("...,...->...", [(3, 4, 4), (4, 4)]),
                           ("jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)]), ("j...k,lj...->lk...", [(2, 2, 2), (2, 2, 2)]),
                           ("ijk,lji,lli->lki", [(3, 4, 4), (4, 4, 3), (4, 4, 3)]), ("k,nk->", [(5,), (10, 5)]),
                           ("abcd->bd", [(3, 2, 3, 2)]), ("...k,...nk->...", [(3, 5), (3, 10, 5)]),
                           ("ij,k", [(3, 4), (3,)])]:
    names = "xyz"[:len(shapes)]
    add("np.einsum", f"np.einsum({subscripts!r}, {', '.join(names)})", **{n: S(*s) for n, s in zip(names, shapes)})
add("np.einsum", "np.einsum(x, [0, 1], y, [1, 2], [0, 2])", x=S(2, 3), y=S(3, 4))
add("np.einsum", "np.einsum(x, [Ellipsis, 0, 1], y, [Ellipsis, 1, 2], [Ellipsis, 0, 2])", x=S(2, 2, 3), y=S(2, 3, 4))
add("np.trace", "np.trace(x, offset=1)", x=S(4, 5))
add("np.trace", "np.trace(x, offset=-1)", x=S(3, 4, 5))
add("np.diag", "np.diag(x, k=1)", x=S(5, 5))
add("np.diag", "np.diag(x, k=-1)", x=S(5))
add("np.tril", "np.tril(x, k=-1)", x=S(5, 5, 4))
add("np.triu", "np.triu(x, k=1)", x=S(5, 5))
add("np.swapaxes", "np.swapaxes(x, 0, 2)", x=S(3, 4, 5))
add("np.rollaxis", "np.rollaxis(x, 2, 1)", x=S(2, 3, 4))
add("np.rollaxis", "np.rollaxis(x, 0, 2)", x=S(2, 3, 4))
add("np.cross", "np.cross(x, y)", x=S(3, 3), y=S(3, 3))
add("np.cross", "np.cross(x, y, axisa=0, axisb=1, axisc=0)", x=S(3, 3), y=S(3, 3))
add("np.cross", "np.cross(x, y, axis=0)", x=S(3, 3), y=S(3, 3))
add("np.vsplit", "np.vsplit(x, [1, 2])[1] * 2.0 + np.vsplit(x, 4)[0]", x=S(4, 8))
add("np.hsplit", "np.hsplit(x, 2)[1] * np.hsplit(x, 2)[0]", x=S(4, 4, 4))
add("np.dsplit", "np.dsplit(x, [1, 2])[2]", x=S(4, 4, 4))
add("np.split", "np.split(x, 4, axis=1)[3]", x=S(4, 8))
add("np.split", "np.split(x, [1, 2], axis=2)[0] - np.split(x, [1, 2], axis=2)[1]", x=S(4, 4, 4))
add("np.array_split", "np.array_split(x, 4, axis=1)[0]", x=S(7, 7))
add("np.array_split", "np.array_split(x, [3, 5], axis=2)[1]", x=S(7, 7, 7))
add("np.concatenate", "np.concatenate((x, y))", x=S(1), y=S(3))
add("np.concatenate", "np.concatenate([x, y], axis=1)", x=S(2, 2), y=S(2, 2))
add("np.vstack", "np.vstack((x, y))", x=S(2, 4), y=S(1, 4))
add("np.vstack", "np.vstack((x, y))", x=S(2), y=S(2))
add("np.hstack", "np.hstack((x, y))", x=S(3, 4), y=S(3, 5))
add("np.stack", "np.stack((x, y), axis=1)", x=S(2), y=S(2))
add("np.row_stack", "np.vstack((x, y))" if not hasattr(np, "row_stack") else "np.row_stack((x, y))",
    x=S(2, 4), y=S(1, 4))
add("np.column_stack", "np.column_stack((x, y))", x=S(2), y=S(2, 2))
add("np.select", "np.select([x > 0, y > 0], [x, y * 2.0], default=1.1)", x=S(3, 4, 5), y=S(3, 4, 5))
add("np.pad", "np.pad(x, ((1, 2), (3, 4)), 'constant')", x=S(2, 2))
add("np.pad", "np.pad(x, 3)", x=S(2, 2))
add("np.flipud", "np.flipud(x)", x=S(5, 3))
add("np.fliplr", "np.fliplr(x)", x=S(5, 3))
add("np.rot90", "np.rot90(x)", x=S(5, 3))
add("np.cumsum", "np.cumsum(x, axis=0)", x=S(5, 6))
add("np.cumsum", "np.cumsum(x)", x=S(5, 6))
add("np.reshape", "np.reshape(x, (5 * 4, 6))", x=S(5, 6, 4))
add("ndarray.reshape", "x.reshape((5 * 4, 6))", x=S(5, 6, 4))
add("ndarray.reshape", "x.reshape(5 * 4, 6)", x=S(5, 6, 4))
add("np.ravel", "np.ravel(x)", x=S(5, 6, 4))
add("ndarray.ravel", "x.ravel()", x=S(5, 6, 4))
add("ndarray.flatten", "x.flatten()", x=S(5, 6, 4))
add("np.clip", "np.clip(x, -0.1, 0.1)", x=("dist", (8, 4)))
add("np.where", "np.where(x > 0, x, y)", x=S(3, 4), y=S(3, 4))
add("np.squeeze", "np.squeeze(x)", x=S(5, 1, 4))
add("ndarray.squeeze", "x.squeeze()", x=S(5, 1, 4))
add("np.expand_dims", "np.expand_dims(x, 1)", x=S(5, 4))
add("np.roll", "np.roll(x, 2, axis=1)", x=S(5, 4))
add("np.roll", "np.roll(x, 3)", x=S(5, 4))
add("np.diagonal", "np.diagonal(x, offset=1)", x=S(3, 4))
add("np.diagonal", "np.diagonal(x, axis1=1, axis2=2)", x=S(3, 4, 4))
add("np.nan_to_num", "np.nan_to_num(x)", x=S(3, 2))
add("np.linspace", "np.linspace(x, y, 5)", x=S(), y=S())
add("ndarray.astype", "x.astype(float)", x=S(3, 2))
add("np.int64 (cast)", "x * np.int64(2.7)", x=S(3))
add("np.array", "np.array([x, y])", x=S(3), y=S(3))
add("np.array", "np.array([[x, y], [y, x]])", x=S(), y=S())
add("np.append", "np.append(x, y)", x=S(3), y=S(2))
add("np.append", "np.append(x, y, axis=0)", x=S(3, 2), y=S(1, 2))
add("np.r_", "np.r_[x, y]", x=S(3), y=S(2))
add("np.c_", "np.c_[x, y]", x=S(3), y=S(3))
add("ndarray.T", "x.T", x=S(3, 2))
add("ndarray.dot", "x.dot(y)", x=S(3, 2), y=S(2))
add("ndarray.sum", "x.sum(axis=0)", x=S(3, 2))
add("ndarray.mean", "x.mean()", x=S(3, 2))
add("ndarray.var", "x.var(ddof=1)", x=("dist", (3, 2)))
add("ndarray.std", "x.std(ddof=1)", x=("dist", (3, 2)))
add("indexing", "x[1, 2] + x[0][1]", x=S(3, 4))
add("indexing", "x[1:3, ::2]", x=S(5, 4))
add("indexing", "x[[0, 1, 1]]", x=S(3, 4))
add("indexing", "x[1:, [0, 1]]", x=S(3, 4))
add("indexing", "x[:, None, 1]", x=S(3, 4))
add("len", "x * len(x)", x=S(3))
add("sum (builtin)", "sum([x, y, x])", x=S(3), y=S(3))
add("np.cumprod", "np.cumprod(x, axis=1)", x=("p", (3, 4)))
add("np.nansum", "np.nansum(x, axis=0)", x=S(3, 4))
add("np.nanmean", "np.nanmean(x, axis=1)", x=S(3, 4))
add("np.average", "np.average(x, axis=0, weights=y)", x=S(3, 4), y=("p", (3,)))
add("np.convolve", "np.convolve(x, y, 'same')", x=S(5), y=S(3))
add("np.meshgrid", "np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]", x=S(3), y=S(4))
add("np.take", "np.take(x, [0, 2, 2], axis=1)", x=S(3, 4))
add("np.take_along_axis", "np.take_along_axis(x, np.array([[0, 1], [1, 1], [0, 0]]), 1)", x=S(3, 2))

# np.linalg (test_linalg.py)
add("np.linalg.inv", "np.linalg.inv(x)", x=("wc", (4, 4)))
add("np.linalg.inv", "np.linalg.inv(x)", x=("wc", (3, 4, 4)))
add("np.linalg.pinv", "np.linalg.pinv(x)", x=("ds", (4, 3)))
add("np.linalg.pinv", "np.linalg.pinv(x)", x=("ds", (2, 3, 5)))
add("np.linalg.solve", "np.linalg.solve(x, y)", x=("wc", (4, 4)), y=S(4, 3))
add("np.linalg.solve", "np.linalg.solve(x, y)", x=("wc", (4, 4)), y=S(4))
add("np.linalg.solve", "np.linalg.solve(x, y)", x=("wc", (2, 4, 4)), y=S(2, 4, 3))
add("np.linalg.det", "np.linalg.det(x)", x=("wc", (4, 4)))
add("np.linalg.det", "np.linalg.det(x)", x=("wc", (2, 3, 3)))
add("np.linalg.slogdet", "np.linalg.slogdet(x)[1]", x=("wc", (4, 4)))
add("np.linalg.slogdet", "np.linalg.slogdet(x)[1]", x=("wc", (2, 3, 3)))
add("np.linalg.norm", "np.linalg.norm(x)", x=S(6))
add("np.linalg.norm", "np.linalg.norm(x)", x=S(3, 4))
add("np.linalg.norm", "np.linalg.norm(x, 'fro', axis=(0, 2))", x=S(3, 4, 2))
for ord_ in ("np.inf", "-np.inf", "0.5", "3", "-1.5", "1"):
    add("np.linalg.norm", f"np.linalg.norm(x, ord={ord_})", x=("dist", (6,)))
add("np.linalg.norm", "np.linalg.norm(x, ord=2, axis=1, keepdims=True)", x=S(3, 4))
add("np.linalg.norm", "np.linalg.norm(x, 'nuc')", x=("ds", (3, 4)))
add("np.linalg.norm", "np.linalg.norm(x, 'nuc', axis=(0, 2))", x=("ds", (3, 4, 3)))
add("np.linalg.eigh", "np.linalg.eigh(x)[0]", x=("sym", (4, 4)))
add("np.linalg.eigh", "np.linalg.eigh(x, UPLO='U')[1] ** 2", x=("sym", (4, 4)))
add("np.linalg.eigh", "np.linalg.eigh(x)[0]", x=("sym", (2, 3, 3)))
add("np.linalg.eigvalsh", "np.linalg.eigvalsh(x)", x=("sym", (3, 3)))
add("np.linalg.eig", "np.linalg.eig(x)[0]", x=("re", (3, 3)))
add("np.linalg.eig", "np.linalg.eig(x)[1] ** 2", x=("re", (3, 3)))
add("np.linalg.eig", "np.linalg.eig(x)[0]", x=("re", (3, 3)))
add("np.linalg.cholesky", "np.linalg.cholesky(x)", x=("spd", (3, 3)))
add("np.linalg.cholesky", "np.linalg.cholesky(x)", x=("spd", (2, 3, 3)))
for shape in [(3, 5), (2, 3, 5), (4, 4), (2, 4, 4), (5, 3), (2, 5, 3)]:
    add("np.linalg.svd", "np.sum(np.linalg.svd(x, full_matrices=False)[0] ** 2 * 0.5, axis=-2) "
        "+ np.linalg.svd(x, full_matrices=False)[1] + np.sum(np.linalg.svd(x, full_matrices=False)[2] ** 3, axis=-1)",
        x=("ds", shape))
    add("np.linalg.svd", "np.linalg.svd(x, compute_uv=False)", x=("ds", shape))
add("np.linalg.qr", "np.linalg.qr(x)[0] * 2.0 + np.linalg.qr(x)[1][0]", x=("ds", (4, 3)))
add("np.linalg.matrix_power", "np.linalg.matrix_power(x, 3)", x=("wc", (3, 3)))
add("np.linalg.lstsq", "np.linalg.lstsq(x, y, rcond=None)[0]", x=("ds", (4, 2)), y=S(4))

# scipy (test_scipy.py), when SciPy imports
SCIPY = [
    ("scipy.stats.chi2.pdf", "stats.chi2.pdf(x, 3)", {"x": ("g1", (4,))}),
    ("scipy.stats.chi2.cdf", "stats.chi2.cdf(x, 3)", {"x": ("g1", (4,))}),
    ("scipy.stats.chi2.logpdf", "stats.chi2.logpdf(x, 3)", {"x": ("g1", (4,))}),
    ("scipy.stats.beta.cdf", "stats.beta.cdf(x, y, z)", {"x": ("o", (4,))}),
    ("scipy.stats.beta.pdf", "stats.beta.pdf(x, y, z)", {"x": ("o", (4,)), "y": ("g1", (4,)), "z": ("g1", (4,))}),
    ("scipy.stats.beta.logpdf", "stats.beta.logpdf(x, y, z)", {"x": ("o", (4,)), "y": ("g1", (4,)), "z": ("g1", (4,))}),
    ("scipy.stats.gamma.cdf", "stats.gamma.cdf(x, 2.5)", {"x": ("g1", (4,))}),
    ("scipy.stats.gamma.pdf", "stats.gamma.pdf(x, y)", {"x": ("g1", (4,)), "y": ("g1", (4,))}),
    ("scipy.stats.gamma.logpdf", "stats.gamma.logpdf(x, y)", {"x": ("g1", (4,)), "y": ("g1", (4,))}),
    ("scipy.stats.norm.pdf", "stats.norm.pdf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.cdf", "stats.norm.cdf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.sf", "stats.norm.sf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.logpdf", "stats.norm.logpdf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.logcdf", "stats.norm.logcdf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.logsf", "stats.norm.logsf(x, y, z)", {"x": ("r", (4,)), "y": ("r", (4,)), "z": ("p", (4,))}),
    ("scipy.stats.norm.logpdf", "stats.norm.logpdf(x, y, z)", {"x": ("r", (1, 3)), "y": ("r", (3, 1)), "z": ("p", ())}),
    ("scipy.stats.poisson.cdf", "stats.poisson.cdf(np.array([1.0, 2.0, 3.0, 4.0]), x)", {"x": ("p", (4,))}),
    ("scipy.stats.poisson.logpmf", "stats.poisson.logpmf(np.array([1.0, 2.0, 3.0, 4.0]), x)", {"x": ("p", (4,))}),
    ("scipy.stats.poisson.pmf", "stats.poisson.pmf(np.array([1.0, 2.0, 3.0, 4.0]), x)", {"x": ("p", (4,))}),
    ("scipy.stats.t.pdf", "stats.t.pdf(x, y, z, w)", {"x": ("r", (4,)), "y": ("g1", (4,)), "z": ("r", (4,)), "w": ("p", (4,))}),
    ("scipy.stats.t.cdf", "stats.t.cdf(x, 2.5, z, w)", {"x": ("r", (4,)), "z": ("r", (4,)), "w": ("p", (4,))}),
    ("scipy.stats.t.logpdf", "stats.t.logpdf(x, y, z, w)", {"x": ("r", (4,)), "y": ("g1", (4,)), "z": ("r", (4,)), "w": ("p", (4,))}),
    ("scipy.stats.t.logcdf", "stats.t.logcdf(x, 2.5, z, w)", {"x": ("r", (4,)), "z": ("r", (4,)), "w": ("p", (4,))}),
    ("scipy.stats.multivariate_normal.pdf", "stats.multivariate_normal.pdf(x, y, COV)", {"x": ("r", (3,)), "y": ("r", (3,))}),
    ("scipy.stats.multivariate_normal.logpdf", "stats.multivariate_normal.logpdf(x, y, COV)", {"x": ("r", (5, 3)), "y": ("r", (3,))}),
    ("scipy.stats.multivariate_normal.entropy", "stats.multivariate_normal.entropy(x, COV)", {"x": ("r", (3,))}),
    ("scipy.stats.multivariate_normal.entropy", "stats.multivariate_normal.entropy(np.zeros(3), x @ x.T + np.eye(3))",
     {"x": ("r", (3, 3))}),
    ("scipy.stats.dirichlet.pdf", "stats.dirichlet.pdf(SIMPLEX, x)", {"x": ("g1", (3,))}),
    ("scipy.stats.dirichlet.logpdf", "stats.dirichlet.logpdf(SIMPLEX, x)", {"x": ("g1", (3,))}),
    ("scipy.special.logsumexp", "special.logsumexp(x)", {"x": ("r", (3, 4))}),
    ("scipy.special.logsumexp", "special.logsumexp(x, axis=1, keepdims=True)", {"x": ("r", (3, 4))}),
    ("scipy.special.logsumexp", "special.logsumexp(x, axis=0, b=np.exp(y))", {"x": ("r", (2, 3, 4)), "y": ("r", (2, 3, 4))}),
    ("scipy.signal.convolve", "signal.convolve(x, y, mode='same')", {"x": ("r", (6,)), "y": ("r", (3,))}),
    ("scipy.signal.convolve", "signal.convolve(x, y, mode='valid')", {"x": ("r", (5, 4)), "y": ("r", (3, 2))}),
    ("scipy.special.beta", "special.beta(x, y)", {"x": ("g1", (4,)), "y": ("g1", (4,))}),
    ("scipy.special.betainc", "special.betainc(2.5, 1.5, x)", {"x": ("o", (4,))}),
    ("scipy.special.betaln", "special.betaln(x, y)", {"x": ("g1", (4,)), "y": ("g1", (4,))}),
    ("scipy.special.gammainc", "special.gammainc(1.0, x)", {"x": ("g1", (4,))}),
    ("scipy.special.gammaincc", "special.gammaincc(1.0, x)", {"x": ("g1", (4,))}),
    ("scipy.special.polygamma", "special.polygamma(0, x)", {"x": ("g1", (4,))}),
    ("scipy.special.jn", "special.jn(2, x)", {"x": ("g1", (4,))}),
    ("scipy.special.yn", "special.yn(2, x)", {"x": ("g1", (4,))}),
    ("scipy.special.psi", "special.psi(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.digamma", "special.digamma(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.gamma", "special.gamma(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.gammaln", "special.gammaln(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.gammasgn", "x * special.gammasgn(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.rgamma", "special.rgamma(x)", {"x": ("p", (3, 2))}),
    ("scipy.special.multigammaln", "special.multigammaln(x + 4.0, 2)", {"x": ("o", (2, 3))}),
    ("scipy.special.j0", "special.j0(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.j1", "special.j1(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.y0", "special.y0(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.y1", "special.y1(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.i0", "special.i0(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.i1", "special.i1(x)", {"x": ("g1", (3, 2))}),
    ("scipy.special.iv", "special.iv(2.5, x)", {"x": ("g1", (4,))}),
    ("scipy.special.ive", "special.ive(2.5, x)", {"x": ("g1", (4,))}),
    ("scipy.special.erf", "special.erf(x)", {"x": ("r", (3, 2))}),
    ("scipy.special.erfc", "special.erfc(x)", {"x": ("r", (3, 2))}),
    ("scipy.special.erfinv", "special.erfinv(x)", {"x": ("u", (3, 2))}),
    ("scipy.special.erfcinv", "special.erfcinv(x + 1.0)", {"x": ("u", (3, 2))}),
    ("scipy.special.logit", "special.logit(x)", {"x": ("o", (3, 2))}),
    ("scipy.special.expit", "special.expit(x)", {"x": ("r", (3, 2))}),
    ("scipy.integrate.odeint", "integrate.odeint(ODE, x, np.linspace(0.1, 0.2, 4), args=(y, z))",
     {"x": ("r", (3,)), "y": ("r", (3,)), "z": ("r", (3,))}),
    ("scipy.linalg.sqrtm", "linalg.sqrtm(x)", {"x": ("spd", (3, 3))}),
    ("scipy.linalg.solve_sylvester", "linalg.solve_sylvester(x, y, z)", {"x": ("wc", (3, 3)), "y": ("wc", (3, 3)), "z": ("r", (3, 3))}),
    ("scipy.linalg.solve_banded", "linalg.solve_banded((1, 1), x, y)", {"x": ("band", (3, 5)), "y": ("r", (5,))}),
]
for name, expression, args in SCIPY:
    if name == "scipy.stats.beta.cdf":
        args = {"x": ("o", (4,))}
        expression = "stats.beta.cdf(x, 2.5, 1.5)"
    add(name, expression, **args)

PRELUDE = '''\
import numpy as np
try:
    from scipy import stats, special, signal, integrate, linalg
except ImportError:
    stats = special = signal = integrate = linalg = None
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
SIMPLEX = np.array([0.2, 0.5, 0.3])


def ODE(y, t, arg1, arg2):
    return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)

'''


def build(entries):
    """One module holding ``f_<k>(x, y, ...) = np.sum(W_<k> * (<expression>))``."""
    lines = [PRELUDE]
    for k, (name, expression, args) in enumerate(entries):
        params = ", ".join(args)
        lines.append(f"W_{k} = None\n\n\ndef f_{k}({params}):\n    return np.sum(W_{k} * ({expression}))\n\n")
    path = os.path.join(tempfile.mkdtemp(prefix="srcad_coverage_"), "coverage_cases.py")
    with open(path, "w") as out:
        out.write("\n".join(lines))
    spec = importlib.util.spec_from_file_location("coverage_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numeric_along(f, args, wrt, vs, h=1e-6):
    def at(step):
        shifted = list(args)
        for i, v in zip(wrt, vs):
            shifted[i] = args[i] + step * v
        return f(*shifted)
    return (at(h) - at(-h)) / (2 * h)


def close(a, b, rtol=1e-4, atol=1e-6):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def run_mode(mode, f, args, wrt, rng):
    """'ok', 'refused', 'wrong' or 'crash', and a message."""
    try:
        if mode == "rev":
            grads = srcad.grad(f, wrt=tuple(wrt))(*args)
            grads = grads if isinstance(grads, tuple) else (grads,)
            for i, g in zip(wrt, grads):
                x = np.asarray(args[i], dtype=float)
                expected = np.zeros(x.shape)
                for index in np.ndindex(x.shape):
                    e = np.zeros(x.shape)
                    e[index] = 1.0
                    expected[index] = numeric_along(f, args, [i], [e])
                if not close(g, expected):
                    return "wrong", f"argument {i}: max error {np.max(np.abs(np.asarray(g) - expected)):.2e}"
            return "ok", ""
        vs = [rng.standard_normal(np.shape(args[i])) for i in wrt]
        value, tangent = srcad.jvp(f, wrt=tuple(wrt))(*args, *vs)
        expected = numeric_along(f, args, wrt, vs)
        if not close(tangent, expected):
            return "wrong", f"tangent {tangent} != {expected}"
        return "ok", ""
    except SrcadError as exc:
        return "refused", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    except Exception as exc:                          # noqa: BLE001 - what this measures
        return "crash", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def main(verbose=False):
    import warnings
    warnings.simplefilter("ignore")
    module = build(ENTRIES)
    rng = np.random.default_rng(0)
    results = []
    for k, (name, expression, args) in enumerate(ENTRIES):
        if name.startswith("scipy") and module.stats is None:
            results.append((name, expression, "refused", "SciPy is not installed", "refused", ""))
            continue
        values = [draw(kind, shape, rng) for kind, shape in args.values()]
        f = getattr(module, f"f_{k}")
        try:
            out = eval(expression, vars(module), dict(zip(args, values)))
            setattr(module, f"W_{k}", rng.standard_normal(np.shape(out)))
        except Exception as exc:                      # noqa: BLE001
            results.append((name, expression, "crash", f"the entry itself fails: {exc}", "crash", ""))
            continue
        wrt = list(range(len(values)))
        rev = run_mode("rev", f, values, wrt, rng)
        fwd = run_mode("fwd", f, values, wrt, rng)
        results.append((name, expression, *rev, *fwd))

    by_function = defaultdict(list)
    for name, expression, rev, rev_msg, fwd, fwd_msg in results:
        by_function[name].append((rev, fwd))

    def worst(states):
        for s in ("wrong", "crash", "refused"):
            if s in states:
                return s
        return "ok"

    print(f"{len(results)} entries over {len(by_function)} functions "
          "(autograd's tested list: shapes and keyword arguments of its tests)\n")
    for label, index in (("reverse (srcad.grad)", 0), ("forward (srcad.jvp)", 1)):
        per_entry = Counter(r[2 + 2 * index] for r in results)
        per_function = Counter(worst([s[index] for s in v]) for v in by_function.values())
        print(f"{label:22s} functions: " + ", ".join(f"{per_function[s]} {s}" for s in
                                                      ("ok", "refused", "wrong", "crash")))
        print(f"{'':22s} entries:   " + ", ".join(f"{per_entry[s]} {s}" for s in
                                                    ("ok", "refused", "wrong", "crash")))
    both = sum(1 for v in by_function.values() if all(r == "ok" and f == "ok" for r, f in v))
    print(f"\nfunctions correct in both modes: {both} of {len(by_function)}")
    if verbose:
        print()
        for name, expression, rev, rev_msg, fwd, fwd_msg in results:
            if rev != "ok" or fwd != "ok":
                print(f"{name:34s} {expression}\n    rev: {rev} {rev_msg}\n    fwd: {fwd} {fwd_msg}")
    return results


if __name__ == "__main__":
    main(verbose="-v" in sys.argv)
