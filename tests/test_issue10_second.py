"""Issue 10: internal errors and false refusals of forward mode and second
derivatives (fuzz classes F10-F13, F20, F21, F23 in benchmarks/FUZZ_FINDINGS.md).

Every expected value comes from central differences of ``f`` itself in
float64: first derivatives from ``helpers.numerical_grad``, Hessians from the
four-point second difference ``fd_hessian`` below (never from srcad).
"""

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad


def fd_hessian(f, x, h=1e-4):
    """Central second differences of ``f`` at ``x`` (a float or an array),
    shaped ``x.shape + x.shape``."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    H = np.zeros((n, n))

    def at(step):
        y = x + step.reshape(x.shape)
        return float(np.sum(f(y if x.ndim else float(y))))

    for i in range(n):
        for j in range(n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h, h
            H[i, j] = (at(ei + ej) - at(ei - ej) - at(ej - ei) + at(-ei - ej)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def fd_jvp(f, x, t, eps=1e-6):
    x, t = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)

    def at(s):
        y = x + s * t
        return np.asarray(f(y if x.ndim else float(y)), dtype=np.float64)

    return (at(eps) - at(-eps)) / (2 * eps)


def check_second(f, x, v=None, rtol=1e-5, atol=1e-6):
    """hessian and hvp of ``f`` at ``x`` (along ``v``) against second differences."""
    expected = fd_hessian(f, x)
    assert_close(srcad.hessian(f)(x), expected, rtol=rtol, atol=atol)
    v = np.linspace(0.5, 1.5, np.size(x)).reshape(np.shape(x)) if v is None else v
    hv = expected.reshape(np.size(x), np.size(x)) @ np.ravel(v)
    assert_close(srcad.hvp(f)(x, v), hv.reshape(np.shape(x)) if np.ndim(x) else float(hv[0]),
                 rtol=rtol, atol=atol)


def check_first(f, x, t=None):
    """grad, value_and_grad and jvp of ``f`` at ``x`` against central differences."""
    assert_close(srcad.grad(f)(x), numerical_grad(f, (x,), 0))
    value, g = srcad.value_and_grad(f)(x)
    assert_close(value, f(x))
    t = np.linspace(-1.0, 1.0, np.size(x)).reshape(np.shape(x)) if t is None and np.ndim(x) else \
        (0.7 if t is None else t)
    y, y_dot = srcad.jvp(f)(x, t)
    assert_close(y, f(x))
    assert_close(y_dot, fd_jvp(f, x, t))


# -- F10: a dict entry overwritten in a branch (jvp raised KeyError) --------------------------

def overwritten_in_branch(x):
    d = {'k1': x * 2.0}
    if x >= 0.33:
        d['k1'] = 0.0
    return d['k1'] * 1.0


def overwritten_by_other_shape(x):
    d = {'k1': x * 2.0, 'k2': x}
    if np.sum(x) > 0:
        d['k1'] = np.sum(x * x)          # a scalar where an array was: the tangent's shape follows
    return np.sum(d['k1'] * d['k2'])


@pytest.mark.parametrize("x", [0.5, 0.2])
def test_jvp_of_a_dict_entry_overwritten_in_a_branch(x):
    check_first(overwritten_in_branch, x)
    assert srcad.jvp(overwritten_in_branch)(x, 1.0)[1] == pytest.approx(0.0 if x >= 0.33 else 2.0)
    check_second(overwritten_in_branch, x)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_jvp_of_a_dict_entry_replaced_by_another_shape(sign):
    x = sign * np.array([0.3, 0.5, 0.9])
    check_first(overwritten_by_other_shape, x)
    check_second(overwritten_by_other_shape, x)


# -- F11: a dict made in a loop, overwritten before an early return -----------------------------

def early_return_in_loop(x):
    for i in range(2):
        d = {'k1': x * 2.0}
        if x > 0:
            d['k1'] = 1.0
            return d['k1'] * 2.0
    return x * d['k1']


@pytest.mark.parametrize("x", [0.5, -0.5])
def test_dict_in_a_loop_with_an_early_return(x):
    check_first(early_return_in_loop, x)
    check_second(early_return_in_loop, x)


# -- F12, F13: hessian/hvp through dict entries and lists updated in loops ------------------------

def entries_in_loop(x):
    d = {'k1': x * 2.0, 'k2': x}
    for i in range(2):
        d['k1'] = d['k1'] * 0.5 + d['k2']
    return d['k1'] * x


def entries_in_loop_arrays(x):
    d = {'a': x * 1.0, 'b': x[0]}
    for i in range(3):
        d['a'] = d['a'] * d['b']
        d['b'] = np.sum(np.tanh(d['a']))
    return d['b']


def entry_created_in_loop(x):
    d = {'a': x}
    for i in range(3):
        if i == 1:
            d['b'] = d['a'] * x              # a new key: the reverse sweep deletes it again
        d['a'] = d['a'] * 0.5 + x * x
    return d['a'] * d['b']


def entries_created_in_loop_arrays(x):
    d = {'a': x * 1.0}
    for i in range(2):
        d['n' + str(i)] = np.sin(d['a']) * x
        d['a'] = d['a'] * d['n' + str(i)]
    return np.sum(d['a'] * d['n0'])


def entry_in_branch(x):
    d = {'k': x * 2.0, 'j': x}
    if np.sum(x) > 0:
        d['k'] = d['k'] * d['j']
    return np.sum(d['k'] * x)


def appended_in_loop(x):
    l = []
    for i in range(2):
        l.append(x * (i + 1))
    return sum(l) * x


def appended_arrays(x):
    L = []
    for i in range(3):
        L.append(x * i)
        x = np.sin(x)
    return np.sum(L[0] * L[1] + L[2] * x)


def nested_appends(x):
    L = []
    for i in range(2):
        M = []
        for j in range(2):
            M.append(x * (i + j + 1.0))
        L.append(M[0] * M[1])
    return np.sum(L[0] * L[1])


def appends_in_callee(p):
    L = []
    for i in range(2):
        L.append(np.tanh(p * (i + 1)))
    return np.sum(L[0] * L[1])


def calls_appender(x):
    return appends_in_callee(x) * x[0]


SCALAR_LOOPS = [entries_in_loop, entry_created_in_loop, appended_in_loop]
ARRAY_LOOPS = [entries_in_loop_arrays, entries_created_in_loop_arrays, entry_in_branch,
               appended_arrays, nested_appends, calls_appender]


@pytest.mark.parametrize("f", SCALAR_LOOPS, ids=lambda f: f.__name__)
def test_second_derivatives_through_loop_updates_of_containers(f):
    check_first(f, 0.7)
    check_second(f, 0.7)


@pytest.mark.parametrize("f", ARRAY_LOOPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_second_derivatives_through_loop_updates_of_containers_of_arrays(f, sign):
    x = sign * np.array([0.3, 0.2, 0.6])
    check_first(f, x)
    check_second(f, x)


def test_the_documented_hessian_example_of_a_list_in_a_loop():
    # F12 / F13 as reported: d2/dx2 (2 x^2) = 4, d2/dx2 (3 x^2) = 6
    assert srcad.hvp(entries_in_loop)(0.5, 1.0) == pytest.approx(4.0)
    assert srcad.hessian(entries_in_loop)(0.5) == pytest.approx(4.0)
    assert srcad.hvp(appended_in_loop)(1.5, 1.0) == pytest.approx(6.0)


@pytest.mark.parametrize("f", [appended_in_loop, entries_in_loop], ids=lambda f: f.__name__)
def test_grad_of_grad_through_loop_updates_runs_forward_over_reverse(f):
    """Reverse mode does not follow the gradient's loop undos (L.pop(),
    restore_entry, stack pushes); srcad.grad of such a gradient answers with
    forward over reverse instead, checked against differences of the gradient."""
    step = 1e-5
    g = srcad.grad(f)
    expected = (g(0.7 + step) - g(0.7 - step)) / (2 * step)
    assert srcad.grad(g)(0.7) == pytest.approx(expected, rel=1e-6)


# -- F21: tuple concatenation under hvp ----------------------------------------------------------

def concatenated(x):
    t = (x,) + (x, 2.0)
    return np.sum(t[0] * t[1] + t[2])


def concatenated_mixed(x):
    t = (x * 2.0,) + (np.sin(x), 3.0)
    u = [t[1]] + [x]
    return np.sum(t[0] * t[1] * t[2] + u[0] * u[1])


@pytest.mark.parametrize("f", [concatenated, concatenated_mixed], ids=lambda f: f.__name__)
def test_hvp_of_tuple_concatenation(f):
    x = np.array([0.3, -0.4, 0.8])
    check_first(f, x)
    check_second(f, x)


def test_hvp_of_tuple_concatenation_as_reported():
    assert_close(srcad.hvp(concatenated)(np.ones(3), np.ones(3)), 2.0 * np.ones(3))


# -- F20: np.where in a callee whose condition depends on the input -----------------------------

def where_callee(p):
    v = np.where(p > 0.5, p, p * 2.0)
    return np.sum(v * v * p)


def calls_where(y):
    return where_callee(y)


def where_and_count(p, scale):
    big = p > 0.0
    n = np.sum(big)                     # an integer count, saved: no derivative either
    return np.sum(np.where(big, p * scale, np.sin(p))) * n


def calls_where_and_count(y):
    return where_and_count(y, y[0])     # scale is a parameter: its saved values stay varied


@pytest.mark.parametrize("f", [calls_where, calls_where_and_count], ids=lambda f: f.__name__)
def test_second_derivatives_of_where_in_a_callee(f):
    x = np.array([0.3, 0.7, -1.0, 1.2])
    check_first(f, x)
    check_second(f, x)
    rows = [srcad.grad(gradient_component(f, i))(x) for i in range(x.size)]    # grad of grad
    assert_close(np.stack(rows), fd_hessian(f, x), rtol=1e-5, atol=1e-6)


def gradient_component(f, i):
    """``x -> grad(f)(x)[i]`` as a plain function, for grad of grad."""
    gradient = srcad.grad(f)

    def component(x):
        return gradient(x)[i]
    return component


def inactive_argument_in_callee(x, y):
    return weighted_sum(x, 2.0, y) + weighted_sum(y, x, 1.0)


def weighted_sum(a, b, w):
    c = w * 2.0                         # not varied w.r.t. a alone, but depends on y
    return c * a * b


def test_grad_of_grad_when_a_saved_value_depends_on_an_inactive_argument():
    """A callee's saved value that is constant at first order (``w`` passed
    ``y`` while differentiating w.r.t. ``x``) still carries the derivative a
    second differentiation w.r.t. ``y`` asks for."""
    args = (0.9, -1.3)
    second = srcad.grad(srcad.grad(inactive_argument_in_callee, wrt=0), wrt=(0, 1))(*args)
    first = srcad.grad(inactive_argument_in_callee, wrt=0)
    expected = [numerical_grad(first, args, j) for j in (0, 1)]
    assert_close(np.array(second), np.array(expected), rtol=1e-5, atol=1e-6)


# -- F23: an in-place update in a callee under hvp -------------------------------------------------

def updates_in_place(p):
    v = p * 1.0
    v[0] *= np.sum(p * p)
    return np.sum(np.tanh(v))


def calls_updater(x):
    return updates_in_place(x)


def test_hvp_of_an_in_place_update_in_a_callee():
    x = np.array([0.3, -0.5, 0.8])
    check_first(calls_updater, x)
    check_second(calls_updater, x)
    before = x.copy()
    srcad.hvp(calls_updater)(x, np.ones(3))
    np.testing.assert_array_equal(x, before)


def writes_argument(p):
    p[0] = 0.0
    return np.sum(p * p)


def calls_writer(x):
    y = x * 1.0
    return writes_argument(y) + writes_argument(x)


def test_a_callee_writing_into_the_callers_argument_is_still_refused():
    with pytest.raises(srcad.SrcadError, match="in place"):
        srcad.hvp(calls_writer)(np.ones(3), np.ones(3))


# -- siblings the fuzzer found (dict_overwrite family) ---------------------------------------------

def items_in_callee(p0, scale=1.0):
    d = {'k1': p0 * (-0.3), 'k2': p0}
    d['k1'] = 1.5
    total = 0.0
    for k, value in d.items():          # the keys, saved on a stack: constants
        total = total + np.sum(value * value)
    return total * scale, p0


def calls_items(x):
    total, p = items_in_callee(x)
    return np.sum(p) * total + np.mean(total * total)


def test_hessian_through_dict_items_in_a_callee():
    x = np.array([0.3, 0.5, 0.9])
    check_first(calls_items, x)
    check_second(calls_items, x)


def overwritten_unread(x, z):
    d = {'k1': z * (-0.9), 'k2': x}
    d['k1'] = -0.6                      # z no longer reaches the output
    total = 0.0
    for k, value in d.items():
        total = total + np.sum(value)
    return np.sum(total * x)


def test_hvp_block_of_an_overwritten_entry_has_the_arguments_shape():
    """The zero tangent of a dict's adjoint reads a missing entry like the
    entry of the dict itself (here z's shape, not the float that replaced it)."""
    x, z = np.array([0.3, -0.2, 0.5]), np.ones((2, 3))
    hx, hz = srcad.hvp(overwritten_unread, wrt=(0, 1))(x, z, np.ones(3), np.ones((2, 3)))
    g = srcad.grad(overwritten_unread, wrt=0)
    assert_close(hx, fd_jvp(lambda y: g(y, z), x, np.ones(3)), rtol=1e-5, atol=1e-6)
    assert_close(hz, np.zeros((2, 3)))


# -- a sibling in base programs: generated code's writes falsely refused ---------------------------

def first_tanh(p):
    return np.tanh(p[0])


def update_then_loop(y, z):
    v0 = y * 2.0
    v1 = z * 1.0
    v1[0] += np.sum(y)                  # restored by the reverse sweep: v1[0] = v1_stack.pop()
    for i in range(2):
        v0 = v0 + first_tanh(z)         # a call's value may "hold" z for the alias analysis
        v1 = v0 * 1.1 + v1 * v1 * 0.1
    return np.sum(v1)


def test_hvp_of_an_update_restored_after_a_loop_that_calls():
    """The gradient's restore of ``v1[0]`` writes into srcad's own array; the
    alias analysis of generated code saw the popped value as possibly ``z``."""
    y, z = np.array([0.3, -0.2, 0.4]), np.array([0.2, 0.5, -0.1])
    for wrt, x in ((0, y), (1, z)):
        def f(u, wrt=wrt):
            return update_then_loop(u, z) if wrt == 0 else update_then_loop(y, u)
        expected = fd_hessian(f, x)
        v = np.array([1.0, -0.5, 2.0])
        hv = srcad.hvp(update_then_loop, wrt=wrt)(y, z, v)
        assert_close(hv, expected @ v, rtol=1e-5, atol=1e-6)
    z_before = z.copy()
    srcad.hessian(update_then_loop, wrt=1)(y, z)
    np.testing.assert_array_equal(z, z_before)


# -- a sibling of F10 for lists: jvp of an element overwritten in a branch -------------------------

def list_element_overwritten(x, y):
    L = [x * 2.0, y]
    if y > 0:
        L[0] = np.sum(x)                # a scalar where an array was
    return np.sum(L[0] * x) + L[1] * y


@pytest.mark.parametrize("y", [0.5, -0.5])
def test_jvp_and_hvp_of_a_list_element_overwritten_in_a_branch(y):
    x = np.array([0.3, 0.5, 0.9])
    t = np.array([1.0, -0.5, 0.25])
    value, tangent = srcad.jvp(list_element_overwritten, wrt=(0, 1))(x, y, t, 0.7)
    assert_close(value, list_element_overwritten(x, y))
    assert_close(tangent, fd_jvp(lambda s: list_element_overwritten(x + s * t, y + s * 0.7), 0.0, 1.0))
    hx, hy = srcad.hvp(list_element_overwritten, wrt=(0, 1))(x, y, t, 0.7)
    gx = srcad.grad(list_element_overwritten, wrt=0)
    assert_close(hx, fd_jvp(lambda s: gx(x + s * t, y + s * 0.7), 0.0, 1.0), rtol=1e-5, atol=1e-6)
    assert hy == pytest.approx(2.0 * 0.7)
