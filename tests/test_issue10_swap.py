"""Issue 10, items 1, 7, 8, 12 and 14 (first part): regression tests.

Every expected derivative comes from central finite differences (tests/helpers.py)
or is derived by hand in a comment; never from srcad's own output.

1.  ``a, b = b, a`` next to a reassignment in a loop or branch (names assigned
    in compound statements keep one name, so the swap read the new ``a``).
7.  A parameter reassigned in a loop or branch has a zero gradient shaped like
    the argument, not like the value it was given later.
8.  ``+`` and ``*`` on tuples and lists are concatenation and repetition.
"""

import math

import numpy as np
import pytest

import srcad
from helpers import assert_close, assert_tree_close, numerical_grad, numerical_grad_tree

RNG = np.random.default_rng(10)


# -- oracles ---------------------------------------------------------------------------

def fd_hessian(f, args, i, j, eps=1e-4):
    """d^2 f / d args[i] d args[j] for float arguments, by central differences of
    central differences."""
    def shifted(di, dj):
        new = list(args)
        new[i] = new[i] + di
        new[j] = new[j] + dj
        return f(*new)
    return (shifted(eps, eps) - shifted(eps, -eps) - shifted(-eps, eps) + shifted(-eps, -eps)) / (4 * eps * eps)


def check_all(f, args, wrt, hessian=True):
    """grad, value_and_grad, jvp (and, for float arguments, hessian) of ``f``
    at ``args`` against finite differences, and against ``f``'s own value."""
    wrt = tuple(wrt)
    expected = [numerical_grad_tree(f, args, i) for i in wrt]
    assert_tree_close(srcad.grad(f, wrt=wrt)(*args), expected, rtol=1e-5, atol=1e-7)
    value, grads = srcad.value_and_grad(f, wrt=wrt)(*args)
    assert_close(value, f(*args))
    assert_tree_close(grads, expected, rtol=1e-5, atol=1e-7)
    if all(isinstance(args[i], (float, np.ndarray)) for i in wrt):
        tangents = [RNG.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else float(RNG.standard_normal())
                    for i in wrt]
        value, out_dot = srcad.jvp(f, wrt=wrt)(*args, *tangents)
        assert_close(value, f(*args))
        assert_close(out_dot, sum(np.sum(g * t) for g, t in zip(expected, tangents)), rtol=1e-5, atol=1e-7)
    if hessian and all(isinstance(args[i], float) for i in wrt):
        h = srcad.hessian(f, wrt=wrt)(*args)
        for a, i in enumerate(wrt):
            for b, j in enumerate(wrt):
                assert_close(h[a][b], fd_hessian(f, args, i, j), rtol=1e-4, atol=1e-5)


# -- 1. swaps next to loops and branches ----------------------------------------------

def swap_then_loop(a, b):
    a, b = b, a
    for i in range(1):
        a = b * 1.0
    return a


def swap_then_branch(a, b):
    a, b = b, a
    if a > 0:
        a = b * 1.0
    return a * a + b


def rotate_in_loop(a, b, c):
    a, b, c = b, c, a
    for i in range(2):
        a, b, c = b, c, a
    return a * 1.0 + 2 * b * b + 3 * c


def swap_in_loop_body(a, b):
    for i in range(3):
        a, b = a * b, a
    return a + 0.5 * b


def swap_in_branches(a, b):
    if a > b:
        a, b = b, a
    else:
        b, a = a * 2.0, b
    return a * 3.0 - b * b


def swap_arrays(x, y):
    for i in range(2):
        x, y = y, x * 2.0
    return np.sum(x * np.arange(3.0)) + np.sum(y ** 2)


def swap_lists(x, y):
    p, q = [x, y], [y * 2.0]
    for i in range(3):
        p, q = q, p
    return p[0] * 5.0 + q[0] * q[1]


def _swapper(a, b):
    a, b = b, a
    for i in range(2):
        a = a + b * 0.5
    return a * b


def swap_in_callee(x, y):
    return _swapper(x, y) + _swapper(y, x * 3.0)


def swap_with_nested_target(a, b, c):
    a, (b, c) = c, (a, b)
    for i in range(1):
        c = c * 2.0
    return a + 10 * b + 100 * c


@pytest.mark.parametrize("f, args", [
    (swap_then_loop, (2.0, 3.0)),
    (swap_then_branch, (2.0, 3.0)),
    (swap_then_branch, (2.0, -3.0)),
    (rotate_in_loop, (2.0, 3.0, 5.0)),
    (swap_in_loop_body, (1.5, 0.7)),
    (swap_in_branches, (2.0, 1.0)),
    (swap_in_branches, (1.0, 2.0)),
    (swap_in_callee, (1.5, 0.5)),
    (swap_with_nested_target, (2.0, 3.0, 5.0)),
], ids=lambda v: getattr(v, "__name__", None))
def test_swap_next_to_loops_and_branches(f, args):
    check_all(f, args, range(len(args)))


def test_swap_value_is_the_functions():
    # the reproducer of the issue: f(2, 3) is 2 (a = b = 3 after the swap, then a = b = 2)
    assert srcad.value_and_grad(swap_then_loop, wrt=(0, 1))(2.0, 3.0) == (2.0, (1.0, 0.0))


def test_swap_arrays_and_lists():
    check_all(swap_arrays, (RNG.standard_normal(3), RNG.standard_normal(3)), (0, 1))
    check_all(swap_lists, (1.5, -0.5), (0, 1))


def test_grad_of_grad_of_a_swap():
    def f(a, b):
        a, b = b, a * a
        return a * b
    # f = b * a^2: d/da = 2ab, d2/da2 = 2b
    assert_close(srcad.grad(srcad.grad(f))(1.5, 2.0), 4.0)


# -- 7. parameters reassigned in a loop or branch ----------------------------------------

def reassigned_in_loop(x, y):
    for i in range(1):
        y = x * 3.0
    return x * 2.0


def reassigned_in_branch(x, y):
    if x > 0:
        y = x * 3.0
    return x * 2.0


@pytest.mark.parametrize("y", [np.ones((2, 2)), [1.0, np.ones(3)], {"a": np.ones(2), "b": 4.0}, 5.0],
                         ids=["array", "list", "dict", "float"])
@pytest.mark.parametrize("f", [reassigned_in_loop, reassigned_in_branch], ids=lambda f: f.__name__)
def test_reassigned_parameter_gradient_has_its_shape(f, y):
    check_all(f, (1.0, y), (0, 1), hessian=False)
    _, dy = srcad.grad(f, wrt=(0, 1))(1.0, y)
    assert_tree_close(dy, numerical_grad_tree(f, (1.0, y), 1))    # zeros of y's structure


def _reassigns(x, y):
    for i in range(2):
        y = x * 3.0
    return x * 2.0


def test_reassigned_parameter_of_a_callee():
    def f(x, y):
        return _reassigns(x, y) + np.sum(y * y)
    y = RNG.standard_normal((2, 2))
    check_all(f, (1.0, y), (0, 1))

    def g(x, L):
        return _reassigns(x, L) + L[0] * L[1]
    check_all(g, (1.0, [2.0, 3.0]), (0, 1))


def test_reassigned_parameter_hessian():
    def f(x, y):
        for i in range(2):
            y = x * y
        return x * 2.0
    h = srcad.hessian(f, wrt=(0, 1))(1.5, 2.0)
    assert_close(h[1][1], 0.0)
    assert_close(h[0][0], 0.0)


# -- 8. tuple and list + and * ---------------------------------------------------------

def tuple_concat(x, y):
    t = (x,) + (y,)
    return t[0] * t[1] ** 2


def list_concat(x, y):
    t = [x] + [y, 2.0]
    return t[0] * t[1] * t[2]


def grown_in_loop(x, y):
    t = ()
    for i in range(3):
        t = t + (x * i + y,)
    return t[0] + t[1] * t[2]


def augmented_concat(x, y):
    t = [x]
    t += [y]
    t += t
    return t[0] * t[3] + t[1]


def tuple_repeat(x, y):
    t = (x, y) * 2
    return t[0] * t[3] + 2 * t[2]


def int_times_list(x, y):
    t = 3 * [x, y]
    return t[0] * t[5] + t[4]


def _with_ones(*args):
    extended = args + (np.ones(2),)
    return extended[0] * extended[1] + extended[2]


def varargs_concat(x, y):
    return np.sum(_with_ones(x, y) ** 2)


def list_plus_array(x, y):
    t = [x, y] + np.array([1.0, 2.0])     # NumPy: elementwise
    return np.sum(t * t)


def list_times_array(x, w):
    t = [x, x * x] * w                    # NumPy: elementwise
    return np.sum(t)


def list_of_rows(X):
    rows = list(X)
    t = rows + [X[0] * 2.0]
    return np.sum(t[0] * t[2]) + np.sum(t[1] ** 2)


@pytest.mark.parametrize("f, args", [
    (tuple_concat, (3.0, 5.0)),
    (list_concat, (3.0, 5.0)),
    (grown_in_loop, (2.0, 0.5)),
    (augmented_concat, (3.0, 5.0)),
    (tuple_repeat, (3.0, 5.0)),
    (int_times_list, (3.0, 5.0)),
    (varargs_concat, (3.0, 5.0)),
    (list_plus_array, (3.0, 5.0)),
], ids=lambda v: getattr(v, "__name__", None))
def test_sequence_concatenation_and_repetition(f, args):
    check_all(f, args, range(len(args)))


def test_concat_reproducer():
    # t[0] * t[1] at (3, 5): the gradient is (y, x) = (5, 3)
    assert srcad.grad(lambda x, y: ((x,) + (y,))[0] * ((x,) + (y,))[1], wrt=(0, 1))(3.0, 5.0) == (5.0, 3.0)


def test_list_times_array_and_rows():
    check_all(list_times_array, (3.0, RNG.standard_normal(2)), (0, 1))
    check_all(list_of_rows, (RNG.standard_normal((2, 3)),), (0,))


def test_grad_of_grad_through_concatenation():
    # tuple_concat = x y^2: d/dy = 2xy, d2/dy2 = 2x
    assert_close(srcad.grad(srcad.grad(tuple_concat, wrt=1), wrt=1)(3.0, 5.0), 6.0)


def test_list_parameters_concatenated_are_refused_not_wrong():
    def f(xs, ys):
        t = xs + ys                       # lists here; srcad cannot know it
        return t[0] * t[3]
    with pytest.raises(srcad.SrcadError, match="concatenated"):
        srcad.grad(f, wrt=(0, 1))([1.0, 2.0], [3.0, 4.0])
    # the same function of arrays is elementwise and stays right
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    check_all(f, (x, y), (0, 1))


def test_concatenating_converted_parameters():
    def f(xs, ys):
        t = list(xs) + list(ys)
        return t[0] * t[3]
    assert_tree_close(srcad.grad(f, wrt=(0, 1))([1.0, 2.0], [3.0, 4.0]), ([4.0, 0.0], [0.0, 1.0]))


# -- 12. std over a length-1 axis; grad raises what f raises ------------------------------

def std_axis0(x):
    return np.sum(np.std(x, axis=0))


def var_axis0(x):
    return np.sum(np.var(x, axis=0) * 3.0)


@pytest.mark.parametrize("f", [std_axis0, var_axis0], ids=lambda f: f.__name__)
def test_reduction_over_a_length_one_axis(f):
    x = RNG.standard_normal((1, 3))
    # identically 0 in a neighbourhood: the finite differences are exactly 0
    assert_close(srcad.grad(f)(x), numerical_grad(f, (x,), 0))
    value, tangent = srcad.jvp(f)(x, np.ones_like(x))
    assert_close(tangent, 0.0)
    check_all(f, (RNG.standard_normal((4, 3)),), (0,))           # and elsewhere still right


def log_of(x):
    return math.log(x)


def dead_quotient(x, y):
    q = x / y
    return x * 2.0


def dead_sqrt_in_branch(x):
    if x < 10.0:
        s = math.sqrt(x)
    return x * 3.0


@pytest.mark.parametrize("transform", [srcad.grad, srcad.value_and_grad, srcad.vjp],
                         ids=lambda t: t.__name__)
def test_grad_raises_what_f_raises(transform):
    extra = (1.0,) if transform is srcad.vjp else ()
    with pytest.raises(ValueError, match="math domain error"):
        log_of(-1.0)
    with pytest.raises(ValueError, match="math domain error"):
        transform(log_of)(-1.0, *extra)
    with pytest.raises(ZeroDivisionError):
        transform(dead_quotient)(1.0, 0, *extra)
    with pytest.raises(ValueError):
        transform(dead_sqrt_in_branch)(-1.0, *extra)
    assert_close(srcad.grad(log_of)(2.0), 0.5)                 # d log x = 1 / x


def test_jvp_raises_what_f_raises():
    with pytest.raises(ValueError, match="math domain error"):
        srcad.jvp(log_of)(-1.0, 1.0)
    with pytest.raises(ZeroDivisionError):
        srcad.jvp(dead_quotient)(1.0, 0, 1.0)


def test_dead_numpy_statements_are_still_dropped():
    def f(x):
        unused = np.exp(x) * 2.0
        return np.sum(x * 3.0)
    assert "np.exp" not in srcad.grad(f).source


# -- a swap whose adjoint is a chain of copies (fuzz seed 131, after the copy-propagation pass) --

def swap_then_loop_on_the_other(x, y):
    y, x = x, y
    n0 = 0
    while n0 < 1:
        n0 = n0 + 1
        y = y * (-1.3) + np.sum(x)
    v1 = np.multiply(y, y)
    return np.sum(x)


def swap_chain_of_copies(a, b, c):
    a, b = b, a
    c, a = a, c
    return np.sum(c * 2.0) + np.sum(b)


@pytest.mark.parametrize("f, n", [(swap_then_loop_on_the_other, 2), (swap_chain_of_copies, 3)])
def test_adjoints_that_are_chains_of_copies(f, n):
    rng = np.random.default_rng(131)
    args = [rng.standard_normal(3) for _ in range(n)]
    grads = srcad.grad(f, wrt=tuple(range(n)))(*args)
    for i in range(n):
        assert_close(grads[i], numerical_grad(f, args, i))
