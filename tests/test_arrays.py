"""Gradients on float64 arrays (srcad/passes/arrays.py): the first call on
float64 arrays writes a copy of the generated code for the shapes of that
call, without the shape helpers (unbroadcast, like, repeat_to, the matmul
adjoints, check_inputs).  It must give what central differences give and what
the generic code gives (to the last bit: the copy computes the same
operations); later calls of other shapes, dtypes or types run the generic
code; inputs are never changed."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import srcad
from srcad.passes import array_kinds, arrays

from helpers import assert_close, numerical_grad
from test_golden_speed import mlp_loss as mlp, rnn_loss as rnn      # (the workloads of issue 14)

RNG = np.random.default_rng(21)


def regression(w, b, X, y):
    return np.mean((np.tanh(X @ w + b) - y) ** 2)


def broadcasting(a, col, row, s):
    """(3, 4) with (3, 1), (4,) and a 0-d array: every way unbroadcast sums."""
    t = a * col + row * s - np.exp(col) / (1.0 + row * row)
    return np.sum(t * t) + np.sum(np.max(t, axis=0)) - np.mean(np.min(t, axis=1, keepdims=True))


def leading(x, v):
    """(2, 3, 4) with (3, 1): leading and length-1 axes summed at once."""
    return np.sum(np.sin(x * v) + v ** 2)


def vector_matrix(A, v, u):
    return np.sum(np.tanh(A @ v) * u) + u @ (A @ v) + np.sum((v @ A.T) ** 2)


def branchy(x, y):
    s = np.sum(x * y)
    if s > 0.0:
        z = np.exp(x) * y
    else:
        z = x * x - y
    for i in range(3):
        z = z + 0.1 * np.sin(z) * x
    return np.sum(z)


def stopped(x, y):
    """A log-sum-exp whose shift is constant (its derivative cancels)."""
    m = srcad.stop_gradient(np.max(x, axis=1, keepdims=True))
    return np.sum((m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))) * y)


def rows(W, xs, b):
    """Rows indexed by a counter, a break, and a bias broadcast in the loop."""
    total = 0.0
    h = np.zeros(3)
    for t in range(len(xs)):
        h = np.tanh(W @ xs[t] + b * h)
        total = total + np.sum(h * xs[t][:3])
        if total > 50.0:
            break
    return total + np.mean(h)


def shapes(*shape_list):
    return tuple(RNG.standard_normal(s) for s in shape_list)


CASES = [
    (mlp, shapes((4, 5), (5,), (5, 3), (3,), (6, 4)) + (np.eye(3)[RNG.integers(0, 3, 6)],), (0, 1, 2, 3)),
    (regression, shapes((3,), (1,), (7, 3), (7,)), (0, 1)),
    (broadcasting, shapes((3, 4), (3, 1), (4,), ()), (0, 1, 2, 3)),
    (leading, shapes((2, 3, 4), (3, 1)), (0, 1)),
    (vector_matrix, shapes((3, 4), (4,), (3,)), (0, 1, 2)),
    (branchy, shapes((5,), (5,)), (0, 1)),
    (branchy, (-np.ones(5), np.ones(5)), (0, 1)),
    (stopped, shapes((3, 4), (3, 1)), (0, 1)),
    (rnn, shapes((4, 4), (4, 3), (6, 3), (4,)), (0, 1, 3)),
    (rows, shapes((3, 5), (7, 5), (3,)), (0, 1, 2)),
]
IDS = [f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)]


def fresh(f, transform=srcad.grad, enabled=True, **kwargs):
    """``transform(f)`` made anew (``f``'s cache emptied before and after,
    so other tests make their own), with or without array copies."""
    f.__dict__.pop("__srcad_cache__", None)
    arrays.ENABLED = enabled
    try:
        return transform(f, **kwargs)
    finally:
        arrays.ENABLED = True
        f.__dict__.pop("__srcad_cache__", None)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=IDS)
def test_array_copy_matches_finite_differences_and_the_generic_code(f, args, wrt):
    d = fresh(f, wrt=wrt)
    assert d.srcad_arrays is not None and f"def {d.srcad_arrays[0]}(" not in d.source
    before = [a.copy() for a in args]
    got = d(*args)
    assert f"def {d.srcad_arrays[0]}(" in d.source                # the copy was written and ran
    for a, b in zip(args, before):
        assert np.array_equal(a, b)                           # inputs unchanged
    for g, i in zip(got, wrt):
        assert type(g) is np.ndarray and g.shape == args[i].shape and g.dtype == np.float64
        assert_close(g, numerical_grad(f, args, i), rtol=1e-6, atol=1e-8)
    generic = fresh(f, wrt=wrt, enabled=False)
    assert generic.srcad_arrays is None
    for g, h in zip(got, generic(*args)):
        assert np.array_equal(g, h)                           # the same operations, the same bits
    again = d(*args)                                          # the copy, from its cell
    for g, h in zip(got, again):
        assert np.array_equal(g, h)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=IDS)
def test_value_and_grad_and_vjp_with_the_copy(f, args, wrt):
    value, grads = fresh(f, srcad.value_and_grad, wrt=wrt)(*args)
    assert_close(value, f(*args), rtol=1e-13, atol=1e-300)
    expected = fresh(f, wrt=wrt, enabled=False)(*args)
    for g, h in zip(grads, expected):
        assert np.array_equal(g, h)
    pulled = fresh(f, srcad.vjp, wrt=wrt)(*args, 2.5)          # a float cotangent: the generic code
    for g, h in zip(pulled, expected):
        assert_close(g, 2.5 * h, rtol=1e-13, atol=1e-300)


def elementwise(x, y, z):
    return (x + y) * z * np.tanh(x)


def test_vjp_with_an_array_cotangent_writes_the_copy():
    x, y, z, v = shapes((4, 3), (3,), (4, 1), (4, 3))
    d = fresh(elementwise, srcad.vjp, wrt=(0, 1, 2))
    got = d(x, y, z, v)
    assert f"def {d.srcad_arrays[0]}(" in d.source
    text = d.source[d.source.index(f"def {d.srcad_arrays[0]}("):]
    assert "unbroadcast" not in text and "like(" not in text
    for i in range(3):
        assert_close(got[i], numerical_grad(elementwise, (x, y, z), i, cotangent=v), rtol=1e-6, atol=1e-8)


class Sub(np.ndarray):
    """An ndarray subclass: not what the copy's guard lets in."""


def test_other_shapes_dtypes_and_types_run_the_generic_code():
    W, b, X, y = shapes((3,), (1,), (7, 3), (7,))
    d = fresh(regression, wrt=(0, 1))
    d(W, b, X, y)                                         # the copy, for (3,), (1,), (7, 3), (7,)
    copy_text = d.source
    for args in [shapes((2,), (1,), (9, 2), (9,)),                       # other shapes
                 (W.astype(np.float32), b.astype(np.float32), X, y),    # float32 parameters
                 (W, b, X.astype(np.float32), y),
                 (W, b, list(map(list, X)), list(y))]:                  # lists
        got = d(*args)
        for i, g in enumerate(got):
            assert np.shape(g) == np.shape(args[i])
            assert_close(g, numerical_grad(regression, [np.asarray(a, dtype=float) for a in args], i),
                         rtol=1e-4 if np.asarray(args[i]).dtype == np.float32 else 1e-6, atol=1e-5)
        if isinstance(args[0], np.ndarray):
            assert got[0].dtype == args[0].dtype                      # float32 stays float32
    assert d.source == copy_text                          # .source shows the first copy only
    sub = W.view(Sub)
    assert_close(d(sub, b, X, y)[0], d(W, b, X, y)[0], rtol=1e-14)      # a subclass: generic


def test_a_copy_that_fails_to_be_written_leaves_the_generic_code(monkeypatch):
    args = shapes((3,), (1,), (7, 3), (7,))
    expected = fresh(regression, wrt=(0, 1), enabled=False)(*args)
    monkeypatch.setattr(arrays, "STRICT", False)
    monkeypatch.setattr(array_kinds.Kinds, "rewrite", lambda self, body: 1 / 0)
    d = fresh(regression, wrt=(0, 1))
    for _ in range(2):
        got = d(*args)
        for g, h in zip(got, expected):
            assert np.array_equal(g, h)
    assert f"def {d.srcad_arrays[0]}(" not in d.source
    monkeypatch.setattr(arrays, "STRICT", True)
    with pytest.raises(ZeroDivisionError):
        fresh(regression, wrt=(0, 1))(*args)


def test_each_set_of_shapes_gets_its_copy_up_to_a_limit(monkeypatch):
    monkeypatch.setattr(arrays, "COPIES", 3)
    d = fresh(regression, wrt=(0, 1))
    sizes = [2, 3, 4, 2, 5, 6, 3, 2]
    for n in sizes:                                        # alternating shapes; the 4th set is past the limit
        args = shapes((n,), (1,), (n + 3, n), (n + 3,))
        got = d(*args)
        expected = fresh(regression, wrt=(0, 1), enabled=False)(*args)
        for g, h in zip(got, expected):
            assert np.array_equal(g, h)
    cells = dict(zip(d.__code__.co_freevars, d.__closure__))
    assert cells[d.srcad_arrays[2]].cell_contents is None          # the writer gave up at 4 sets


def test_grad_seed_and_complex_inputs():
    W, b, X, y = shapes((3,), (1,), (7, 3), (7,))
    d = fresh(regression, wrt=(0, 1))
    one = d(W, b, X, y)
    seeded = d(W, b, X, y, 3.0)                           # the seed is a float: the copy
    assert_close(seeded[0], 3.0 * one[0], rtol=1e-14)
    with pytest.raises(srcad.SrcadError, match="complex"):
        d(W + 0j, b, X, y)


def test_hessian_after_the_copy_was_written():
    x, y = shapes((5,), (5,))
    d = fresh(branchy, wrt=0)
    d(x, y)                                               # the copy exists now
    h = srcad.hessian(branchy, wrt=0)(x, y)
    eps = 1e-5
    for i in range(5):
        e = np.zeros(5)
        e[i] = eps
        column = (d(x + e, y) - d(x - e, y)) / (2 * eps)
        assert_close(h[:, i], column, rtol=1e-5, atol=1e-7)


def test_the_rnn_copy_keeps_no_shapes():
    """The RNN's copy: no unbroadcast in the reversed loop, so the stacks of
    the shapes it read go (and with them two shape_of calls a step)."""
    d = fresh(rnn, wrt=(0, 1))
    d(*shapes((4, 4), (4, 3), (6, 3), (4,)))
    text = d.source[d.source.index(f"def {d.srcad_arrays[0]}("):]
    assert "shape_of" not in text and "unbroadcast" not in text and "dh = Wh.T @ dadd_Wh" in text
    assert "shape_of" in d.source[:d.source.index(f"def {d.srcad_arrays[0]}(")]


def test_the_rnn_copy_contracts_the_rows_as_they_come():
    """Past a chunk of rows (ROWS_PER_MATMUL) the copy's OuterProducts gives
    the generic code's sums to the bit; no step, a zero gradient."""
    from srcad import runtime
    Wh, Wx, h0 = 0.5 * RNG.standard_normal((5, 5)) / 2.2, RNG.standard_normal((5, 3)), RNG.standard_normal(5)
    for steps in (0, 1, runtime.ROWS_PER_MATMUL, 2 * runtime.ROWS_PER_MATMUL + 7):
        xs = RNG.standard_normal((steps, 3))
        got = fresh(rnn, wrt=(0, 1))(Wh, Wx, xs, h0)
        expected = fresh(rnn, wrt=(0, 1), enabled=False)(Wh, Wx, xs, h0)
        for g, h in zip(got, expected):
            assert type(g) is np.ndarray and np.array_equal(g, h)
    d = fresh(rnn, wrt=(0, 1))
    d(Wh, Wx, RNG.standard_normal((4, 3)), h0)
    text = d.source[d.source.index(f"def {d.srcad_arrays[0]}("):]
    assert "OuterProducts()" in text and ".total(Wh.shape)" in text and "like(" not in text


def test_outer_products_sum_outer_products_in_chunks():
    from srcad.runtime import OuterProducts
    for n in (0, 3, 128, 300):
        a, b = RNG.standard_normal((n, 4)), RNG.standard_normal((n, 6))
        acc = OuterProducts()
        for x, y in zip(a, b):
            acc.left(x)
            acc.right(y)
        assert_close(acc.total((4, 6)), sum((np.outer(x, y) for x, y in zip(a, b)), np.zeros((4, 6))),
                     rtol=1e-12, atol=1e-12)


def test_the_copy_reads_as_the_hand_written_gradient():
    """The regression's copy: no helpers, the mean's cotangent a scalar
    spread by broadcasting, the bias's a sum over the batch."""
    d = fresh(regression, wrt=(0, 1))
    d(*shapes((3,), (1,), (7, 3), (7,)))
    text = d.source[d.source.index(f"def {d.srcad_arrays[0]}("):]
    assert text == """\
def grad_regression_arrays(w, b, X, y, dout):
    # forward sweep
    matmul_X = X @ w
    add_b = matmul_X + b
    tanh_b = np.tanh(add_b)
    sub_y = tanh_b - y
    # reverse sweep
    # return np.mean((np.tanh(X @ w + b) - y) ** 2)
    dpow_y = dout / 7
    dtanh_b = dpow_y * 2 * sub_y
    dadd_b = dtanh_b * (1.0 - tanh_b * tanh_b)
    db = dadd_b.sum(axis=0, keepdims=True)
    dw = X.T @ dadd_b
    return (dw, db)
"""


# -- programs with shapes drawn at random ------------------------------------------
OPS = ["{x} * {y}", "{x} + {y}", "{x} - {y}", "{x} / (1.5 + {y} * {y})", "np.tanh({x}) * {y}",
       "np.exp(-{x} * {x}) + {y}", "np.maximum({x}, {y})", "np.where({x} > {y}, {x}, {y} * 2.0)"]


@st.composite
def programs(draw):
    """Two operands whose shapes broadcast in any of the ways NumPy allows
    (new leading axes, length-1 axes, a 0-d array), a chain of operations on
    them (perhaps in a loop) and a reduction that may keep dimensions."""
    rank = draw(st.integers(1, 3))
    full = tuple(draw(st.integers(2, 4)) for _ in range(rank))

    def part():
        keep = draw(st.integers(0, rank))
        return tuple(1 if draw(st.booleans()) else n for n in full[rank - keep:])
    shape_a, shape_b = part(), part()
    lines = ["c = a * b + a"]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(OPS))
        x, y = draw(st.sampled_from("abc")), draw(st.sampled_from("abc"))
        lines.append(f"c = {op.format(x='c', y=y)}" if draw(st.booleans()) else
                     f"c = c + {op.format(x=x, y=y)}")
    if draw(st.booleans()):                  # the chain in a loop: c's shape may grow
        lines[1:] = [f"for i in range({draw(st.integers(1, 3))}):"] + ["    " + line for line in lines[1:]]
    axis = draw(st.sampled_from([None, 0, -1]))
    keep = draw(st.booleans())
    reduce = draw(st.sampled_from(["np.sum", "np.mean", "np.max"]))
    inner = f"{reduce}(c, axis={axis}, keepdims={keep})" if axis is not None else f"{reduce}(c)"
    lines.append(f"return np.sum({inner} ** 2)")
    return shape_a, shape_b, lines


@settings(max_examples=80, deadline=None, derandomize=True)
@given(programs())
def test_random_broadcasting_programs(program):
    shape_a, shape_b, lines = program
    namespace = {"np": np}
    source = "def f(a, b):\n" + "".join(f"    {line}\n" for line in lines)
    import linecache
    filename = f"<arrays-fuzz-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    f = namespace["f"]
    rng = np.random.default_rng(len(source))
    args = (rng.standard_normal(shape_a), rng.standard_normal(shape_b))
    try:
        f(*args)
    except ValueError:
        return                                           # shapes that do not broadcast
    d = srcad.grad(f, wrt=(0, 1))
    got = d(*args)
    generic = fresh(f, wrt=(0, 1), enabled=False)(*args)
    for i, (g, h) in enumerate(zip(got, generic)):
        assert np.shape(g) == np.shape(args[i])
        assert np.array_equal(g, h), source
        scale = 1.0 + np.max(np.abs(g), initial=0.0)        # (c * c in a loop grows fast)
        fd, coarse = numerical_grad(f, args, i), numerical_grad(f, args, i, eps=1e-4)
        if not np.allclose(fd, coarse, rtol=1e-3, atol=1e-5 * scale):
            continue                    # a kink within the step (np.where(c > a) with c == a): no derivative
        assert_close(g, fd, rtol=1e-5, atol=1e-7 * scale)
