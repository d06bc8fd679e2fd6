"""Issue 10: effects of calls, over-refusals of the alias analysis, ``wrt`` on
integer parameters, writes through a container's element.

A call that writes into one of its arguments (``out=``, ``np.copyto``,
``a.fill``, ``a.sort()``, a function of the user's that writes into a
parameter) is seen by the graph as leaving the argument unchanged; when its
result is unused it was not even part of the derivative (F24 in
benchmarks/FUZZ_FINDINGS.md).  Such a call is refused on its own line when
the write matters, and kept (never dropped as dead code) when it does not.
Expected values are central finite differences (tests/helpers.py).
"""

import inspect

import functools

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

X = np.array([1.0, 2.0, 3.0])
MARK = "# <- refused here"


# -- item 1: calls that write into an argument ---------------------------------------

def zero_first(p):
    p[0] = 0.0
    return 1.0


def zero_last_through_a_view(p):
    v = np.flip(p)
    v[0] = 0.0
    return 1.0


def zero_first_no_return(p):
    p[0] = 0.0


def bump(p):
    p += 1.0
    return p * 2.0


def unused_result_of_a_writing_callee(x):
    a = x * 1.0
    t = zero_first(a)  # <- refused here
    return np.sum(a)


def unused_result_of_a_callee_writing_through_a_view(x):
    a = x * 1.0
    t = zero_last_through_a_view(a)  # <- refused here
    return np.sum(a)


def used_result_of_a_writing_callee(x):
    a = x * 1.0
    t = zero_first(a)  # <- refused here
    return np.sum(a) * t


def writing_callee_as_a_statement(x):
    a = x * 1.0
    zero_first_no_return(a)  # <- refused here
    return np.sum(a)


def callee_augments_an_argument_read_again(x):
    a = x * 1.0
    t = bump(a)  # <- refused here
    return np.sum(a * t)


def fill(x):
    a = x * 1.0
    a.fill(0.5)  # <- refused here
    return np.sum(a * x)


def copyto(x):
    a = x * 1.0
    np.copyto(a, x * 2.0)  # <- refused here
    return np.sum(a)


def out_argument(x):
    a = x * 1.0
    np.sin(x, out=a)  # <- refused here
    return np.sum(a)


def out_argument_with_unused_result(x):
    a = x * 1.0
    t = np.multiply(x, 2.0, out=a)  # <- refused here
    return np.sum(a)


def sort_method(x):
    a = x[::-1] * 1.0
    a.sort()  # <- refused here
    return np.sum(a * np.arange(3.0))


def sort_method_with_unused_result(x):
    a = x[::-1] * 1.0
    t = a.sort()  # <- refused here
    return np.sum(a * np.arange(3.0))


def ufunc_at(x):
    a = x * 1.0
    np.add.at(a, [0, 0], x[1])  # <- refused here
    return np.sum(a * a)


def positional_out(x):
    a = x * 1.0
    t = np.add(x, 1.0, a)  # <- refused here
    return np.sum(a)


def dot_positional_out(x):
    a = np.zeros(2)
    t = np.dot(np.ones((2, 3)), x, a)  # <- refused here
    return np.sum(a * a)


def dunder_iadd(x):
    a = x * 1.0
    t = a.__iadd__(x)  # <- refused here
    return np.sum(a)


def list_extend(x):
    L = [x * 1.0]
    t = L.extend([x * 2.0])  # <- refused here
    return np.sum(sum(L))


def written_argument_is_the_callers_parameter(x):
    t = zero_first(x)  # <- refused here
    return np.sum(x * x)


# the same functions without the write: each refused function really differs
WITHOUT_THE_WRITE = {
    unused_result_of_a_writing_callee: lambda x: np.sum(x),
    unused_result_of_a_callee_writing_through_a_view: lambda x: np.sum(x),
    used_result_of_a_writing_callee: lambda x: np.sum(x),
    writing_callee_as_a_statement: lambda x: np.sum(x),
    callee_augments_an_argument_read_again: lambda x: np.sum(x * (x + 1.0) * 2.0),
    fill: lambda x: np.sum(x * x),
    copyto: lambda x: np.sum(x),
    out_argument: lambda x: np.sum(x),
    out_argument_with_unused_result: lambda x: np.sum(x),
    sort_method: lambda x: np.sum(x[::-1] * np.arange(3.0)),
    sort_method_with_unused_result: lambda x: np.sum(x[::-1] * np.arange(3.0)),
    ufunc_at: lambda x: np.sum(x * x),
    list_extend: lambda x: np.sum(x),
    positional_out: lambda x: np.sum(x),
    dot_positional_out: lambda x: 0.0,
    dunder_iadd: lambda x: np.sum(x),
    written_argument_is_the_callers_parameter: lambda x: np.sum(x * x),
}
WRITING_CALLS = list(WITHOUT_THE_WRITE)


def _marked_line(f):
    lines, first = inspect.getsourcelines(f)
    return next(first + i for i, line in enumerate(lines) if MARK in line)


@pytest.mark.parametrize("f", WRITING_CALLS, ids=[f.__name__ for f in WRITING_CALLS])
def test_the_write_matters(f):
    """Not a test of srcad: the refused functions compute something else than
    the same code without the write, so a gradient that ignores it is wrong."""
    assert not np.isclose(f(X.copy()), WITHOUT_THE_WRITE[f](X.copy()))


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "jvp", "hessian", "hvp"])
@pytest.mark.parametrize("f", WRITING_CALLS, ids=[f.__name__ for f in WRITING_CALLS])
def test_a_call_that_writes_into_an_argument_is_refused_on_its_line(f, mode):
    x = X.copy()
    with pytest.raises(srcad.NonDifferentiableError) as info:
        d = getattr(srcad, mode)(f)
        d(x, np.ones(3)) if mode in ("jvp", "hvp") else d(x)
    np.testing.assert_array_equal(x, X)
    error = info.value
    assert error.lineno == _marked_line(f), str(error)
    assert error.filename == inspect.getsourcefile(f)
    assert error.hint and "^" in str(error)
    assert "in place" in error.message


def test_the_refusal_names_the_callee_line_that_writes():
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(unused_result_of_a_callee_writing_through_a_view)(X.copy())
    message = info.value.message
    assert "zero_last_through_a_view changes its parameter 'p'" in message
    assert "v[0] = 0.0" in message


def test_a_write_into_the_callers_parameter_says_so():
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(written_argument_is_the_callers_parameter)(X.copy())
    assert "the caller's data must not change" in info.value.message


# writes by calls that do not matter: differentiated, and the call is kept

def constant_buffer_out(x):
    buf = np.zeros(3)
    t = np.multiply(np.arange(3.0), 2.0, out=buf)
    return np.sum(x * buf)


def constant_buffer_fill(x):
    c = np.zeros(3)
    c.fill(2.0)
    return np.sum(c * x * x)


def constant_buffer_written_by_a_callee(x):
    c = np.ones(3)
    t = zero_first(c)
    return np.sum(c * x * x)


def augmenting_callee_whose_argument_is_not_read_again(x):
    a = x * 1.0
    t = bump(a)
    return np.sum(t * x)


ACCEPTED = [constant_buffer_out, constant_buffer_fill, constant_buffer_written_by_a_callee,
            augmenting_callee_whose_argument_is_not_read_again]


@pytest.mark.parametrize("f", ACCEPTED, ids=[f.__name__ for f in ACCEPTED])
def test_writes_that_do_not_matter_match_finite_differences(f):
    x = X.copy()
    value, g = srcad.value_and_grad(f)(x)
    assert value == f(X.copy())
    assert_close(g, numerical_grad(f, (X,), 0))
    v, t = srcad.jvp(f)(x, np.array([0.3, -0.2, 0.5]))
    assert v == f(X.copy())
    assert_close(t, np.dot(numerical_grad(f, (X,), 0), [0.3, -0.2, 0.5]), rtol=1e-5)
    np.testing.assert_array_equal(x, X)


# -- item 2: over-refusals --------------------------------------------------------

def new_value(p):
    v = np.where(p > 0, np.ones(3), p)
    return v[0]


def f26(x):
    a = new_value(x)
    x += np.cos(a)
    return a + x


def augmented_alias_of_a_reduction(x):
    s = np.sum(x)
    t = s
    t += 1.0
    return s * t


def augmented_alias_of_a_float(x):
    s = float(np.sum(x)) * 2.0
    t = s
    t *= 3.0
    return s * t + np.sum(x)


def two_new_values(p):
    return p * 2.0, np.tanh(p)


def callee_returns_new_values(x):
    a = x * 1.0
    b = two_new_values(a)[0]
    b[0] = 7.0
    return np.sum(a * b)


OVER_REFUSED = [(f26, (-1.2,)), (f26, (0.7,)), (augmented_alias_of_a_reduction, (X,)),
                (augmented_alias_of_a_float, (X,)), (callee_returns_new_values, (X,))]


@pytest.mark.parametrize("f, args", OVER_REFUSED, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("transform", [srcad.grad, srcad.value_and_grad, srcad.jvp])
def test_no_false_refusal_for_values_that_cannot_share_memory(f, args, transform):
    expected = numerical_grad(f, args, 0)
    if transform is srcad.jvp:
        _, got = transform(f)(*args, 1.0 if np.ndim(args[0]) == 0 else np.ones(3))
        assert_close(got, np.sum(expected), rtol=1e-5)
        return
    got = transform(f)(*args)
    if transform is srcad.value_and_grad:
        assert got[0] == f(*[np.copy(a) if np.ndim(a) else a for a in args])
        got = got[1]
    assert_close(got, expected, rtol=1e-5)


def returns_its_argument(p):
    return p


def callee_returns_its_argument(x):
    a = x * 1.0
    b = returns_its_argument(a)
    b[0] = 7.0
    return np.sum(a * x)


def test_a_callee_that_returns_its_argument_still_aliases_it():
    assert not np.isclose(callee_returns_its_argument(X.copy()), np.sum(X * X))
    with pytest.raises(srcad.NonDifferentiableError, match="'a' may share memory"):
        srcad.grad(callee_returns_its_argument)(X.copy())


# -- item 3: wrt naming an integer parameter ----------------------------------------

def loop_bound(x, n):
    s = 0.0
    for i in range(n):  # <- refused here
        s = s + x * (i + 1)
    return s


def derived_loop_bound(x, n):
    m = n + 1
    s = 0.0
    for i in range(1, m):  # <- refused here
        s = s + x * i
    return s


def shape_argument(x, n):
    return np.sum(np.zeros(n) + x)  # <- refused here


def index(x, k):
    return x[k] * 2.0  # <- refused here


INTEGER_USES = [(loop_bound, (2.0, 3)), (derived_loop_bound, (2.0, 3)),
                (shape_argument, (2.0, 3)), (index, (X, 1))]


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "jvp", "hessian", "hvp"])
@pytest.mark.parametrize("f, args", INTEGER_USES, ids=lambda v: getattr(v, "__name__", ""))
def test_wrt_naming_an_integer_parameter_is_refused(f, args, mode):
    with pytest.raises(srcad.NonDifferentiableError) as info:
        d = getattr(srcad, mode)(f, wrt=(0, 1))
        if mode in ("jvp", "hvp"):
            d(*args, np.ones_like(args[0]) if np.ndim(args[0]) else 1.0, 1)
        else:
            d(*args)
    assert info.value.lineno == _marked_line(f)
    assert "integer" in info.value.message or "index" in info.value.message


@pytest.mark.parametrize("f, args", INTEGER_USES, ids=lambda v: getattr(v, "__name__", ""))
def test_without_the_integer_in_wrt_the_gradient_is_right(f, args):
    assert_close(srcad.grad(f, wrt=0)(*args), numerical_grad(f, args, 0))


def compared_with_an_integer(x, n):
    # a comparison with a parameter is piecewise constant: its derivative is 0, not refused
    return x * 2.0 if n > 1 else x


def test_a_parameter_only_compared_is_not_refused():
    assert srcad.grad(compared_with_an_integer, wrt=(0, 1))(1.5, 2.0) == (2.0, 0.0)


# -- item 4: writes through a container's element ------------------------------------

def through_a_list(x):
    b = x * 1.0
    L = [b, x]
    L[0][0] = 0.0  # <- refused here
    return np.sum(b)


def through_a_dict(x):
    d = {"w": x * 1.0}
    d["w"][1] = 0.0  # <- refused here
    return np.sum(d["w"] * x)


def through_a_row(x):
    a = np.outer(x, x)
    a[0][1] = 0.0  # <- refused here
    return np.sum(a)


@pytest.mark.parametrize("f", [through_a_list, through_a_dict, through_a_row],
                         ids=lambda f: f.__name__)
def test_a_write_through_an_element_says_what_to_write(f):
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(f)(X.copy())
    error = info.value
    assert error.lineno == _marked_line(f)
    assert "yet" not in str(error)
    assert "[k] = item" in error.hint and "[i, j] = v" in error.hint


def the_list_way(x):
    b = x * 1.0
    L = [b, x]
    item = L[0].copy()
    item[0] = 0.0
    L[0] = item
    return np.sum(L[0] * x)


def the_dict_way(x):
    d = {"w": x * 1.0}
    w = d["w"].copy()
    w[1] = 0.0
    d["w"] = w
    return np.sum(d["w"] * x)


def the_array_way(x):
    a = np.outer(x, x)
    a[0, 1] = 0.0
    return np.sum(a)


@pytest.mark.parametrize("f", [the_list_way, the_dict_way, the_array_way], ids=lambda f: f.__name__)
def test_what_the_hint_says_to_write_works(f):
    expected = numerical_grad(f, (X,), 0)
    assert_close(srcad.grad(f)(X.copy()), expected)
    direction = np.array([0.3, -0.2, 0.5])
    value, tangent = srcad.jvp(f)(X.copy(), direction)      # L[0] = item in forward mode
    assert value == f(X.copy())
    assert_close(tangent, np.dot(expected, direction), rtol=1e-5)


# -- item 2 (F26): op= next to an alias is refused only where it writes in place -------

def augmented_alias_of_a_parameter(x):
    a = x
    x += 1.0  # <- refused here
    return np.sum(a * x)


def augmented_through_a_callee(x):
    a = x * 1.0
    t = bump(a)  # <- refused here
    return np.sum(a * t)


GUARDED = [augmented_alias_of_a_parameter, augmented_through_a_callee]


@pytest.mark.parametrize("f", GUARDED, ids=lambda f: f.__name__)
def test_op_assign_next_to_an_alias_of_a_float_matches_finite_differences(f):
    """On a float ``x += 1.0`` makes a new value: nothing to refuse."""
    expected = numerical_grad(f, (1.5,), 0)
    assert_close(srcad.grad(f)(1.5), expected)
    value, tangent = srcad.jvp(f)(1.5, 1.0)
    assert value == f(1.5)
    assert_close(tangent, expected)
    h = 1e-4
    second = (f(1.5 + h) - 2 * f(1.5) + f(1.5 - h)) / h ** 2
    assert_close(srcad.hessian(f)(1.5), second, rtol=1e-4)


@pytest.mark.parametrize("mode", ["grad", "jvp", "hessian"])
@pytest.mark.parametrize("f", GUARDED, ids=lambda f: f.__name__)
def test_op_assign_next_to_an_alias_of_an_array_is_refused_when_it_runs(f, mode):
    """On an array it writes in place, and the alias sees it."""
    without = {augmented_alias_of_a_parameter: lambda x: np.sum(x * (x + 1.0)),
               augmented_through_a_callee: lambda x: np.sum(x * (x + 1.0) * 2.0)}[f]
    assert not np.isclose(f(X.copy()), without(X.copy()))
    x = X.copy()
    with pytest.raises(srcad.NonDifferentiableError) as info:
        d = getattr(srcad, mode)(f)
        d(x, np.ones(3)) if mode == "jvp" else d(x)
    np.testing.assert_array_equal(x, X)
    assert info.value.lineno == _marked_line(f)
    assert "in place" in info.value.message and "read again" in info.value.message


# -- F27: an element read into a name, then op= on it, in a called function ---------

def sum_of_squares_after_first(x):
    total = x[0]
    for i in range(1, len(x)):
        total += x[i] * x[i]  # <- refused here
    return total


def calls_the_element_loop(x):
    return sum_of_squares_after_first(x) + np.sum(np.sin(x))


def element_op_assign(x):
    v = x[0]
    v += 1.0  # <- refused here
    return np.sum(v * v) + np.sum(x)


@pytest.mark.parametrize("f", [calls_the_element_loop, element_op_assign], ids=lambda f: f.__name__)
def test_op_assign_on_an_element_of_a_vector_is_a_new_value(f):
    """``x[0]`` of a vector is a number: ``total += ...`` makes a new one, in
    a called function too (the call was refused: its effect summary said it
    may write into ``x``)."""
    expected = numerical_grad(f, (X,), 0)
    assert_close(srcad.grad(f)(X.copy()), expected)
    direction = np.array([0.3, -0.2, 0.5])
    value, tangent = srcad.jvp(f)(X.copy(), direction)
    assert_close(value, f(X.copy()))
    assert_close(tangent, np.dot(expected, direction), rtol=1e-5)
    assert_close(srcad.hessian(f)(X.copy()) @ direction,
                 (srcad.grad(f)(X + 1e-5 * direction) - srcad.grad(f)(X - 1e-5 * direction)) / 2e-5,
                 rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, where", [(calls_the_element_loop, sum_of_squares_after_first),
                                      (element_op_assign, element_op_assign)], ids=["callee", "own"])
def test_op_assign_on_a_row_of_a_matrix_is_refused_where_it_runs(f, where):
    """``x[0]`` of a matrix is a view: ``+=`` would write into the caller's
    array; refused on the line of the ``+=``, the input unchanged."""
    x = np.ones((2, 3))
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(f)(x)
    np.testing.assert_array_equal(x, np.ones((2, 3)))
    assert info.value.lineno == _marked_line(where) and "in place" in info.value.message


def bump_first_row(p):
    v = p[0]
    v += 1.0
    return 0.0


def unused_bump(x):
    t = bump_first_row(x)  # <- refused here
    return np.sum(x * x)


def test_an_unused_call_whose_op_assign_may_write_is_still_refused_on_arrays():
    """Its result unused, the call runs as the user wrote it (or not at all),
    so its ``+=`` is not guarded inside: the call site, which cannot see
    whether ``p[0]`` is a view, refuses an array argument (as before F27)."""
    for x in (X.copy(), np.ones((2, 3))):
        with pytest.raises(srcad.NonDifferentiableError) as info:
            srcad.grad(unused_bump)(x)
        assert info.value.lineno == _marked_line(unused_bump)


def unreadable_writer(p, **options):
    p[0] = 0.0
    return 1.0


def unused_result_of_an_unreadable_callee(x):
    a = x * 1.0
    t = unreadable_writer(a)
    return np.sum(a)


def harmless_wrapper(*args, **kwargs):
    return 2.0 * bump_free(*args, **kwargs)


def bump_free(p):
    return np.sum(p * p)


def unused_result_of_a_harmless_wrapper(x):
    a = x * 1.0
    t = harmless_wrapper(a)
    return np.sum(a * x)


def test_an_unused_call_of_a_kwargs_function_that_writes_is_refused_with_its_write():
    """A **kwargs function is read as the call specialises it (srcad/calls.py);
    with its result unused, its write into the caller's array would be silently
    dropped, so the call is refused, naming the callee's line that writes."""
    assert unused_result_of_an_unreadable_callee(X.copy()) != np.sum(X)
    for mode in ("grad", "jvp"):
        with pytest.raises(srcad.SrcadError) as info:
            d = getattr(srcad, mode)(unused_result_of_an_unreadable_callee)
            d(X.copy()) if mode == "grad" else d(X.copy(), np.ones(3))
        assert "changes its parameter 'p' in place" in info.value.message
        assert "p[0] = 0.0" in info.value.message           # the callee's line, quoted
        lines, first = inspect.getsourcelines(unused_result_of_an_unreadable_callee)
        assert first <= info.value.lineno < first + len(lines)   # the caret on the call


def test_an_unused_call_of_a_wrapper_that_writes_nothing_is_differentiated():
    f = unused_result_of_a_harmless_wrapper
    assert_close(srcad.grad(f)(X.copy()), numerical_grad(f, (X,), 0))


# -- the fuzzer: call_effect family and the "refused as documented" classification -----

def test_the_call_effect_family_makes_each_of_its_variants():
    from test_fuzz import RandomChoices, generate
    seen = set()
    for seed in range(80):
        seen |= generate(RandomChoices(seed), focus="call_effect").features
    for kind in ("writes", "writes via view", "augments", "augments a float", "out", "method",
                 "constant buffer", "int bound", "fresh result"):
        assert "call_effect/" + kind in seen, kind


def test_a_refusal_counts_as_documented_only_on_its_line_with_its_message():
    from fuzz_families import documented
    recorded = [("alias", "view1[0] = 2.0"), ("call effect", "t3 = h0(buf2)")]
    alias = ("this line updates 'view1' in place (an element or slice assignment), but 'buf0' "
             "may share memory with it and is read again at line 9: srcad cannot follow ...")
    assert documented(recorded, alias, "    view1[0] = 2.0\n")
    assert not documented(recorded, alias, "view1[1] = 2.0")                 # another line
    assert not documented(recorded, "srcad has no derivative rule for f", "view1[0] = 2.0")
    call = "this call may write into 'buf2' in place (h0 changes its parameter 'p0' ...)"
    assert documented(recorded, call, "t3 = h0(buf2)")
    assert not documented(recorded, call, "view1[0] = 2.0")                 # not its kind


def list_extended_through_an_alias(x):
    a = [x, 2.0]
    b = a
    b += [x * 3.0]  # <- refused here
    return sum(a) * x


def test_op_assign_on_a_list_alias_is_refused():
    """``+=`` extends a list in place (the alias sees it), like an array."""
    assert list_extended_through_an_alias(1.5) != (1.5 + 2.0) * 1.5
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(list_extended_through_an_alias)(1.5)
    assert info.value.lineno == _marked_line(list_extended_through_an_alias)


def aliased_then_augmented(p):
    a = p
    p += 1.0
    return np.sum(a * p)


def calls_aliased_then_augmented(x):
    return aliased_then_augmented(x * 2.0) * 3.0


def test_the_guard_works_inside_a_callee():
    f = calls_aliased_then_augmented
    assert_close(srcad.grad(f)(1.5), numerical_grad(f, (1.5,), 0))
    assert_close(srcad.jvp(f)(1.5, 1.0)[1], numerical_grad(f, (1.5,), 0))
    with pytest.raises(srcad.NonDifferentiableError, match="may share memory") as info:
        srcad.grad(f)(X.copy())
    assert info.value.source_line.strip() == "p += 1.0"


def _pure_leaf(p):
    return np.sum(p)


def _writing_leaf(p):
    p[0] = 0.0
    return 1.0


def _middle(p):
    return leaf(p) * 2.0


leaf = _pure_leaf


def calls_the_middle(x):
    a = x * 1.0
    t = _middle(a)
    return np.sum(a * x)


def test_rebinding_a_callees_callee_to_a_writer_is_seen():
    """What a callee writes depends on its own callees: after ``leaf`` is
    rebound to a function that writes, the cached derivative is not reused."""
    global leaf
    try:
        assert_close(srcad.grad(calls_the_middle)(X.copy()), numerical_grad(calls_the_middle, (X,), 0))
        leaf = _writing_leaf
        with pytest.raises(srcad.NonDifferentiableError, match="_middle changes its parameter"):
            srcad.grad(calls_the_middle)(X.copy())
    finally:
        leaf = _pure_leaf
    assert_close(srcad.grad(calls_the_middle)(X.copy()), numerical_grad(calls_the_middle, (X,), 0))


# -- F23: an in-place update in a callee under hvp/hessian ------------------------------

def scales_its_first_entry(p):
    v = p * 1.0
    v[0] *= np.sum(p * p)
    return np.sum(np.tanh(v))


def calls_scales_its_first_entry(x):
    return scales_its_first_entry(x)


def test_hvp_through_an_in_place_update_in_a_callee():
    """The generated reverse half writes into values it unpacked from the
    callee's saved tuple (restoring them): srcad's own write, not refused."""
    f, x, v = calls_scales_its_first_entry, np.array([0.3, -0.5, 0.8]), np.ones(3)
    eps = 1e-4
    expected = (numerical_grad(f, (x + eps * v,), 0) - numerical_grad(f, (x - eps * v,), 0)) / (2 * eps)
    before = x.copy()
    assert_close(srcad.hvp(f)(x, v), expected, rtol=1e-4, atol=1e-6)
    assert_close(srcad.hessian(f)(x) @ v, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(x, before)


# -- a decorated helper whose result is unused: its wrapper is read at the call's shape ----

def _twice(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def _bumps(p):
    p += np.cos(p)                    # op= on a float: a new value, not a write
    return p


@_twice
def _decorated(p, scale=1.0):
    if p > 0.2:
        _bumps(p)
    return p * scale


def unused_decorated_result(x):
    v = _decorated(x)
    w = _decorated(v)                 # w is never read
    return v * v


def test_unused_result_of_a_decorated_helper_is_read_through_its_wrapper():
    x = 0.3
    assert srcad.grad(unused_decorated_result)(x) == pytest.approx(
        (unused_decorated_result(x + 1e-6) - unused_decorated_result(x - 1e-6)) / 2e-6, rel=1e-6)
