"""Golden tests of what srcad writes where test_golden.py has none, and of
single stages of the pipeline (srcad/pipeline.py).

Pinned here, character for character: the trip counter of a ``while`` loop
and of a ``for`` loop with ``break``; the forward/reverse pair made for a
called function; the saves of ``x[i] = v`` and of ``L.append(v)``; the loop
over ``d.items()``; the twin stacks of tangents in the code ``hessian``
differentiates; ``check_finite``'s checks; and the output of the front end
(fence, lift, structure, A-normal form) and of the structuring pass alone,
including the Before/After examples in normalize/__init__.py's and structure.py's
docstrings, so that those cannot drift from what srcad does.

Each expected string was written by reading the generated code (see
test_golden.py for what it should look like); every derivative is also run
and compared with central finite differences.  A comment says where a golden
pins something that is correct but could be better.
"""

import inspect
import os
import re
import textwrap

import numpy as np

import srcad
from srcad import codegen, lift, normalize, pipeline, structure

from helpers import assert_close, assert_grads_match, numerical_grad

RNG = np.random.default_rng(11)
HERE = os.path.basename(__file__)


def assert_source(got, expected):
    assert got == expected, f"generated source changed:\n--- got ---\n{got}\n--- expected ---\n{expected}"


def line_of(func, text):
    """The line number of the line of ``func`` that reads ``text`` (stripped)."""
    lines, first = inspect.getsourcelines(func)
    return first + [line.strip() for line in lines].index(text)


# -- the functions -----------------------------------------------------------------
def while_halving(x):
    while x > 1.0:
        x = x * 0.5
    return x


def for_break(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
        if s > 10.0:
            break
    return s


def square_plus(a, b):
    return a * a + b


def calls_helper(x, y):
    z = square_plus(x, y)
    return np.sum(z)


def setitem_loop(x):
    y = np.ones(3)
    for i in range(1, 3):
        y[i] = y[i - 1] * x[i]
    return np.sum(y)


def append_loop(x, n):
    values = []
    for i in range(n):
        values.append(x * i)
    total = 0.0
    for v in values:
        total = total + np.sin(v)
    return total


def dict_items(params):
    total = 0.0
    for k, v in params.items():
        total = total + np.sum(v * v)
    return total


def cubic_loop(x):
    for i in range(2):
        x = x * x
    return np.sum(x)


def log_ratio(x, y):
    z = np.log(x) / y
    return np.sum(z)


def layer(x, W, b):
    h = np.tanh(x @ W + b)
    h += 1.0
    return np.sum(h ** 2)


def sugar(x, y):
    s = x if x > y else y * 2.0
    ok = x > 0.0 and y > 0.0
    squares = [v * v for v in (x, y)]
    return s + squares[0] + float(ok)


def early_return(x, n):
    for i in range(n):
        if x > 5.0:
            return x
        x = x * 2.0
    return -x


def first_positive(xs, s):
    for x in xs:
        if x > 0:
            return x
        s = s + x
    return s


# -- the expected code ----------------------------------------------------------------
WHILE_HALVING = '''\
def grad_while_halving(x, dout=1.0):
    # on Python floats: this code with math, written at the first such call (if math raises, the code below)
    if type(x) is type(dout) is float:
        try:
            return grad_while_halving_floats(x, dout)
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is ndarray and type(dout) is float and (x.dtype is float64):
        if (x.shape,) == grad_while_halving_shapes:
            return grad_while_halving_arrays(x, dout)
        if grad_while_halving_other_shapes is not None:
            return grad_while_halving_other_shapes(x, dout)
    x_stack = Stack()
    # forward sweep
    check_inputs(x)
    gt_x = x > 1.0
    trips = 0
    while gt_x:
        trips = trips + 1
        mul_x = x * 0.5
        x_stack.push(x)
        x = mul_x
        gt_x = x > 1.0
    if type(x) is not float:
        check_scalar(x)
    # reverse sweep
    dx = dout
    # while x > 1.0:
    for _ in range(trips):
        # x = x * 0.5
        x = x_stack.pop()
        dx = unbroadcast(dx * 0.5, x)
    return like(dx, x)

def grad_while_halving_floats(x, dout):
    # forward sweep
    gt_x = x > 1.0
    trips = 0
    while gt_x:
        trips = trips + 1
        mul_x = x * 0.5
        x = mul_x
        gt_x = x > 1.0
    # reverse sweep
    dx = dout
    # while x > 1.0:
    for _ in range(trips):
        # x = x * 0.5
        dx = dx * 0.5
    return dx
'''

FOR_BREAK = '''\
def grad_for_break(x, n, ds=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is type(n) is ndarray and type(ds) is float and (x.dtype is n.dtype is float64):
        if (x.shape, n.shape) == grad_for_break_shapes:
            return grad_for_break_arrays(x, n, ds)
        if grad_for_break_other_shapes is not None:
            return grad_for_break_other_shapes(x, n, ds)
    mul_x_stack = Stack()
    s_stack = Stack()
    mul_x = None
    # forward sweep
    s = 0.0
    trips = 0
    for i in range(n):
        trips = trips + 1
        mul_x_stack.push(shape_of(mul_x))
        mul_x = x * i
        add_s = s + mul_x
        s_stack.push(shape_of(s))
        s = add_s
        gt_s = s > 10.0
        if gt_s:
            break
    if type(s) is not float:
        check_scalar(s)
        check_inputs(x)
    # reverse sweep
    dx = zeros_like(x)
    # for i in range(n):
    for i in reversed(range(n)[:trips]):
        # s = s + x * i
        dadd_s = ds
        s = s_stack.pop()
        if i != 0:
            ds = unbroadcast(dadd_s, s)
        dmul_x = unbroadcast(dadd_s, mul_x)
        dx = dx + unbroadcast(dmul_x * i, x)
        mul_x = mul_x_stack.pop()
    return like(dx, x)
'''

CALLS_HELPER = '''\
def grad_calls_helper(x, y, dout=1.0):
    # this code is for the square_plus srcad read: if rebound, transform again
    if square_plus is not square_plus_seen:
        return transform_again(x, y, dout)
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is type(y) is ndarray and type(dout) is float and (x.dtype is y.dtype is float64):
        if (x.shape, y.shape) == grad_calls_helper_shapes:
            return grad_calls_helper_arrays(x, y, dout)
        if grad_calls_helper_other_shapes is not None:
            return grad_calls_helper_other_shapes(x, y, dout)
    # forward sweep
    check_inputs(x)
    z, z_saved = forward_square_plus(x, y)
    # reverse sweep
    # return np.sum(z)
    dz = repeat_to(dout, z, None, False)
    # z = square_plus(x, y)
    dx = reverse_square_plus(z_saved, dz)
    return like(dx, x)

def forward_square_plus(a, b):
    mul_a = a * a
    out = mul_a + b
    return (out, (a, shape_of(mul_a)))

def reverse_square_plus(saved, dout):
    a, mul_a = saved
    # return a * a + b
    dmul_a = unbroadcast(dout, mul_a)
    da = dmul_a * a
    da = da + da
    return da
'''

SETITEM_LOOP = '''\
def grad_setitem_loop(x, dout=1.0):
    # this code is for the np.ones srcad read: if rebound, transform again
    if np.ones is not np_ones_seen:
        return transform_again(x, dout)
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is ndarray and type(dout) is float and (x.dtype is float64):
        if (x.shape,) == grad_setitem_loop_shapes:
            return grad_setitem_loop_arrays(x, dout)
        if grad_setitem_loop_other_shapes is not None:
            return grad_setitem_loop_other_shapes(x, dout)
    mul_y_stack = Stack()
    sub_i_stack = Stack()
    x_i_stack = Stack()
    y_stack = Stack()
    y_sub_stack = Stack()
    mul_y = None
    sub_i = None
    x_i = None
    y_sub = None
    # forward sweep
    check_inputs(x)
    y = np.ones(3)
    for i in range(1, 3):
        sub_i_stack.push(sub_i)
        sub_i = i - 1
        y_sub_stack.push(y_sub)
        y_sub = y[sub_i]
        x_i_stack.push(x_i)
        x_i = x[i]
        mul_y_stack.push(shape_of(mul_y))
        mul_y = y_sub * x_i
        y_stack.push(np.copy(y[i]))
        y[i] = mul_y
    # reverse sweep
    # return np.sum(y)
    dy = repeat_to(dout, y, None, False)
    dx = zeros_like(x)
    dx = owned(dx)
    # for i in range(1, 3):
    for i in reversed(range(1, 3)):
        # y[i] = y[i - 1] * x[i]
        dmul_y = unbroadcast(dy[i], mul_y)
        if i != 1:
            dy = without(dy, i)
        y[i] = y_stack.pop()
        dy_sub = unbroadcast(dmul_y * x_i, y_sub)
        dx_i = unbroadcast(dmul_y * y_sub, x_i)
        mul_y = mul_y_stack.pop()
        dx = add_into(dx, dx_i, x, i)
        x_i = x_i_stack.pop()
        if i != 1:
            dy = add_at(dy, dy_sub, y, sub_i)
        y_sub = y_sub_stack.pop()
        sub_i = sub_i_stack.pop()
    dx = released(dx)
    return like(dx, x)
'''

APPEND_LOOP = '''\
def grad_append_loop(x, n, dtotal=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is type(n) is ndarray and type(dtotal) is float and (x.dtype is n.dtype is float64):
        if (x.shape, n.shape) == grad_append_loop_shapes:
            return grad_append_loop_arrays(x, n, dtotal)
        if grad_append_loop_other_shapes is not None:
            return grad_append_loop_other_shapes(x, n, dtotal)
    sin_v_stack = Stack()
    total_stack = Stack()
    v_stack = Stack()
    sin_v = None
    v = None
    # forward sweep
    values = []
    for i in range(n):
        mul_x = x * i
        values.append(mul_x)
    total = 0.0
    len_values = len(values)
    for i_2 in range(len_values):
        v_stack.push(v)
        v = values[i_2]
        sin_v_stack.push(shape_of(sin_v))
        sin_v = np.sin(v)
        add_total = total + sin_v
        total_stack.push(shape_of(total))
        total = add_total
    if type(total) is not float:
        check_scalar(total)
        check_inputs(x)
    # reverse sweep
    dvalues = zeros_like(values)
    dvalues = owned(dvalues)
    # for v in values:
    for i_2 in reversed(range(len_values)):
        # total = total + np.sin(v)
        dadd_total = dtotal
        total = total_stack.pop()
        if i_2 != 0:
            dtotal = unbroadcast(dadd_total, total)
        dsin_v = unbroadcast(dadd_total, sin_v)
        dv = dsin_v * np.cos(v)
        sin_v = sin_v_stack.pop()
        dvalues = add_into(dvalues, dv, values, i_2)
        v = v_stack.pop()
    dx = zeros_like(x)
    # for i in range(n):
    for i in reversed(range(n)):
        # values.append(x * i)
        dmul_x = dvalues[-1]
        if i != 0:
            dvalues = drop_last(dvalues)
        values.pop()
        dx = dx + unbroadcast(dmul_x * i, x)
    return like(dx, x)
'''

DICT_ITEMS = '''\
def grad_dict_items(params, dtotal=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(params) is ndarray and type(dtotal) is float and (params.dtype is float64):
        if (params.shape,) == grad_dict_items_shapes:
            return grad_dict_items_arrays(params, dtotal)
        if grad_dict_items_other_shapes is not None:
            return grad_dict_items_other_shapes(params, dtotal)
    k_stack = Stack()
    mul_v_stack = Stack()
    sum_v_stack = Stack()
    total_stack = Stack()
    v_stack = Stack()
    k = None
    mul_v = None
    sum_v = None
    v = None
    # forward sweep
    total = 0.0
    params_keys = params.keys()
    keys_params = list(params_keys)
    len_keys_params = len(keys_params)
    for i in range(len_keys_params):
        k_stack.push(k)
        k = keys_params[i]
        v_stack.push(v)
        v = params[k]
        mul_v_stack.push(shape_of(mul_v))
        mul_v = v * v
        sum_v_stack.push(shape_of(sum_v))
        sum_v = np.sum(mul_v)
        add_total = total + sum_v
        total_stack.push(shape_of(total))
        total = add_total
    if type(total) is not float:
        check_scalar(total)
        check_inputs(params)
    # reverse sweep
    dparams = zeros_like(params)
    dparams = owned(dparams)
    # for k, v in params.items():
    for i in reversed(range(len_keys_params)):
        # total = total + np.sum(v * v)
        dadd_total = dtotal
        total = total_stack.pop()
        if i != 0:
            dtotal = unbroadcast(dadd_total, total)
        dsum_v = unbroadcast(dadd_total, sum_v)
        dmul_v = repeat_to(dsum_v, mul_v, None, False)
        sum_v = sum_v_stack.pop()
        dv = dmul_v * v
        dv = dv + dv
        mul_v = mul_v_stack.pop()
        dparams = add_into(dparams, dv, params, k)
        v = v_stack.pop()
        k = k_stack.pop()
    dparams = released(dparams)
    return like(dparams, params)
'''

HESSIAN_CUBIC_LOOP = '''\
def jvp_grad_cubic_loop(x, dout, x_dot):
    x_stack = Stack()
    x_stack_dot = Stack()
    check_inputs(x)
    for i in range(2):
        mul_x = x * x
        mul_x_dot = x_dot * x + x * x_dot
        x_stack.push(x)
        x_stack_dot.push(x_dot)
        x = mul_x
        x_dot = mul_x_dot
    dx = repeat_to(dout, x, None, False)
    dx_dot = zeros_like(dx)
    range_2 = range(2)
    len_range_2 = len(range_2)
    last = len_range_2 - 1
    for i_2 in range(last, -1, -1):
        i = range_2[i_2]
        dmul_x = dx
        dmul_x_dot = dx_dot
        x = x_stack.pop()
        x_dot = x_stack_dot.pop()
        # dx = unbroadcast(dmul_x * x, x)  # <- {file}:{line}: x = x * x
        mul_dmul_x = dmul_x * x
        mul_dmul_x_dot = dmul_x_dot * x + dmul_x * x_dot
        dx = unbroadcast(mul_dmul_x, x)
        dx_dot = unbroadcast(mul_dmul_x_dot, x)
        # dx = dx + dx  # <- {file}:{line}: x = x * x
        add_dx = dx + dx
        add_dx_dot = dx_dot + dx_dot
        dx = add_dx
        dx_dot = add_dx_dot
    out = like(dx, x)
    out_dot = like(dx_dot, x)
    return (out, out_dot)
'''

CHECK_FINITE_LOG_RATIO = '''\
def grad_log_ratio(x, y, dout=1.0):
    # forward sweep
    check_inputs(x, y)
    log_x = np.log(x)
    z = log_x / y
    # reverse sweep
    # return np.sum(z)
    dz = repeat_to(dout, z, None, False)
    check_finite(dz, '{path}:{return_line}: return np.sum(z)', 'dz')
    # z = np.log(x) / y
    dlog_x = unbroadcast(dz / y, log_x)
    check_finite(dlog_x, '{path}:{z_line}: z = np.log(x) / y', 'dlog_x')
    dy = unbroadcast(-dz * z / y, y)
    check_finite(dy, '{path}:{z_line}: z = np.log(x) / y', 'dy')
    dx = dlog_x / x
    check_finite(dx, '{path}:{z_line}: z = np.log(x) / y', 'dx')
    return (like(dx, x), like(dy, y))
'''

ANF_LAYER = '''\
def layer(x, W, b):
    matmul_x = x @ W
    add_b = matmul_x + b
    h = np.tanh(add_b)
    h_1 = h + 1.0
    pow_h = h_1 ** 2
    out = np.sum(pow_h)
    return out
'''

ANF_SUGAR = '''\
def sugar(x, y):
    gt_x = x > y
    if gt_x:
        ifexp_x = x
    else:
        ifexp_x = y * 2.0
    s = ifexp_x
    gt_x_2 = x > 0.0
    and_x = gt_x_2
    if gt_x_2:
        gt_y = y > 0.0
        and_x = gt_y
    ok = and_x
    mul_v_list = []
    tuple_x = (x, y)
    len_tuple_x = len(tuple_x)
    for i in range(len_tuple_x):
        v_2 = tuple_x[i]
        mul_v_2 = v_2 * v_2
        mul_v_list.append(mul_v_2)
    squares = mul_v_list
    squares0 = squares[0]
    add_s = s + squares0
    float_ok = float(ok)
    out = add_s + float_ok
    return out
'''

ANF_EARLY_RETURN = '''\
def early_return(x, n):
    returned = False
    for i in range(n):
        gt_x = x > 5.0
        if gt_x:
            out = x
            returned = True
            break
        else:
            mul_x = x * 2.0
            x = mul_x
    not_returned = not returned
    if not_returned:
        out = -x
    return out
'''

# -- generated code --------------------------------------------------------------------
def test_while_loop_replays_its_trip_count():
    """A while loop counts its iterations; the reverse replays that many."""
    d = srcad.grad(while_halving)
    for x in (7.3, 0.5):                          # three iterations, none
        assert_grads_match(while_halving, (x,), (0,), (d(x),))
        assert_grads_match(while_halving, (x,), (0,), (d(np.float64(x)),))   # the generic code
    assert_source(d.source, WHILE_HALVING)        # the float copy is written by now


def test_break_slices_the_reversed_range_by_its_trip_count():
    # pins a cost, not an error: mul_x is pushed every iteration only for the
    # shape that unbroadcast(dadd_s, mul_x) reads (shape classes cannot prove
    # that x * i has the shape of s here)
    d = srcad.grad(for_break)
    assert_source(d.source, FOR_BREAK)
    for args in ((0.7, 10), (0.1, 4)):            # breaks, runs to the end
        assert_grads_match(for_break, args, (0,), (d(*args),))


def test_called_function_gets_a_forward_and_reverse_pair():
    """forward_h returns its value and what reverse_h reads; the caller keeps
    it (z_saved) and hands it back with the cotangent."""
    d = srcad.grad(calls_helper)
    assert_source(d.source, CALLS_HELPER)
    args = (RNG.standard_normal(4), RNG.standard_normal(4))
    assert_grads_match(calls_helper, args, (0,), (d(*args),))


def test_setitem_in_a_loop_saves_only_the_overwritten_entry():
    """y[i] = v pushes np.copy(y[i]) and the reverse writes it back."""
    # pins a cost, not an error: x_i and y_sub are pushed every iteration
    # although unbroadcast reads them only for their shape (scalars here)
    d = srcad.grad(setitem_loop)
    assert_source(d.source, SETITEM_LOOP)
    x = RNG.standard_normal(3)
    before = x.copy()
    assert_grads_match(setitem_loop, (x,), (0,), (d(x),))
    assert np.array_equal(x, before)


def test_append_in_a_loop_is_undone_by_pop():
    """L.append(v) needs no stack: its reverse reads dL[-1] and pops."""
    d = srcad.grad(append_loop)
    assert_source(d.source, APPEND_LOOP)
    for args in ((0.3, 4), (0.3, 0)):
        assert_grads_match(append_loop, args, (0,), (d(*args),))


def test_dict_items_loop_is_an_index_loop_over_the_keys():
    d = srcad.grad(dict_items)
    assert_source(d.source, DICT_ITEMS)
    params = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(3)}
    grads = d(params)
    assert set(grads) == set(params)
    for key in params:
        entry = lambda v, key=key: dict_items({**params, key: v})    # noqa: E731
        assert_grads_match(entry, (params[key],), (0,), (grads[key],))


def test_hessian_pushes_a_twin_stack_of_tangents():
    """The tangent of the gradient keeps x_stack_dot beside x_stack, pushed
    and popped with it."""
    h = srcad.hessian(cubic_loop)
    line = line_of(cubic_loop, "x = x * x")
    assert_source(h.source, HESSIAN_CUBIC_LOOP.format(file=HERE, line=line))
    x = RNG.standard_normal(3)
    step = 1e-4
    gradient = lambda v: numerical_grad(cubic_loop, (v,), 0, eps=1e-5)    # noqa: E731
    expected = np.stack([(gradient(x + step * e) - gradient(x - step * e)) / (2 * step)
                         for e in np.eye(3)], axis=1)
    assert_close(h(x), expected, rtol=1e-4, atol=1e-5)


def test_check_finite_checks_every_adjoint_where_it_is_made():
    d = srcad.grad(log_ratio, wrt=(0, 1), check_finite=True)
    lines = {"z_line": line_of(log_ratio, "z = np.log(x) / y"),
             "return_line": line_of(log_ratio, "return np.sum(z)")}
    assert_source(d.source, CHECK_FINITE_LOG_RATIO.format(path=__file__, **lines))
    args = (RNG.uniform(0.5, 2.0, 3), RNG.uniform(0.5, 2.0, 3))
    assert_grads_match(log_ratio, args, (0, 1), d(*args))
    try:
        with np.errstate(divide="ignore"):          # z = log(0) / y = -inf: dy first
            d(np.array([1.0, 0.0, 2.0]), np.ones(3))
    except srcad.SrcadError as error:
        assert f"non-finite at line {lines['z_line']}: dy holds inf" in str(error)
    else:
        raise AssertionError("check_finite let an infinite gradient through")


# -- single stages -------------------------------------------------------------------
def front_end_source(func):
    return codegen.to_source(pipeline.front_end(pipeline.parse(func)))


def run_normalized(func, *args):
    """Call the front end's output of ``func``: it must compute what ``func`` does."""
    scope = dict(func.__globals__)
    exec(front_end_source(func), scope)
    return scope[func.__name__](*args)


def test_front_end_a_normal_form():
    assert_source(front_end_source(layer), ANF_LAYER)
    args = (RNG.standard_normal(3), RNG.standard_normal((3, 2)), RNG.standard_normal(2))
    assert_close(run_normalized(layer, *args), layer(*args))


def test_front_end_lowers_sugar_to_branches_and_loops():
    """IfExp and `and` become branches (the right operand only evaluated when
    needed), a comprehension a loop that appends."""
    assert_source(front_end_source(sugar), ANF_SUGAR)
    for args in ((1.5, 0.5), (-1.0, 2.0)):
        assert_close(run_normalized(sugar, *args), sugar(*args))


def test_front_end_single_exit():
    assert_source(front_end_source(early_return), ANF_EARLY_RETURN)
    for args in ((1.0, 5), (1.0, 1), (9.0, 3)):
        assert_close(run_normalized(early_return, *args), early_return(*args))


def _example(doc, label):
    """The indented block after ``label::`` in a module docstring, dedented."""
    found = re.search(label + r"::\n\n((?:    .*\n|\n)+)", doc)
    return textwrap.dedent(found.group(1)).strip() + "\n"


def _as_function(block, params):
    return f"def f({params}):\n" + textwrap.indent(block, "    ")


def _parsed(text, name):
    """A parsed function from ``text`` (written to a module, as srcad reads files)."""
    import importlib.util
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), f"srcad_golden_{name}.py")
    with open(path, "w") as handle:
        handle.write("import numpy as np\n\n" + text)
    spec = importlib.util.spec_from_file_location(f"srcad_golden_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return pipeline.parse(getattr(module, name))


def test_normalize_docstring_example_is_what_the_front_end_writes():
    before, after = (_example(normalize.__doc__, label) for label in ("Before", "After"))
    parsed = _parsed(before, "f")
    assert_source(codegen.to_source(pipeline.front_end(parsed)), after)


def test_structure_docstring_example_is_what_the_pass_writes():
    before, after = (_example(structure.__doc__, label) for label in ("Before", "After"))
    parsed = _parsed(_as_function(before, "xs, s"), "f")
    normalize.fence(parsed)
    lift.lift(parsed)
    structure.structure(parsed.node, normalize.name_allocator(parsed))
    body = codegen.to_source(parsed.node).split("\n", 1)[1]
    assert_source(textwrap.dedent(body), after)
