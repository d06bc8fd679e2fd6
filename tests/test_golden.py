"""Golden tests: the exact source srcad writes for a few small functions.

The generated code is part of srcad's interface (users print and read it), so
these tests pin it character for character.  When a change to srcad alters
the generated code on purpose, read the new code, check it still reads like a
hand-written gradient, and update the expected string here.

Each expected string was written by reading the generated code: a forward
sweep, then a reverse sweep whose blocks quote the source line they reverse,
adjoints named after their primals (``dx`` for ``x``), a first contribution
assigned and later ones accumulated.  Every test also runs the gradient and
compares it with central finite differences.
"""

import numpy as np

import srcad

from helpers import assert_grads_match

RNG = np.random.default_rng(7)


def seed(x, y, z):
    p = x + y
    g = p * z
    return g


def tanh_regression(w, x, y):
    z = np.dot(x, w)
    p = np.tanh(z)
    err = p - y
    return np.sum(err * err)


def power_loop(x, w, n):
    for i in range(n):
        x = x * w
    return x


def branch(x, y):
    if x > 0.0:
        z = x * y
    else:
        z = np.sin(x) + y
    return z


SEED = '''\
def grad_seed(x, y, z, dg=1.0):
    # forward sweep
    p = x + y
    g = p * z
    if type(g) is not float:
        check_scalar(g)
        check_inputs(x, y, z)
    # reverse sweep
    # g = p * z
    dp = dg * z
    dz = dg * p
    return (dp, dp, dz)
'''

TANH_REGRESSION = '''\
def grad_tanh_regression(w, x, y, dout=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(w) is type(x) is type(y) is ndarray and type(dout) is float and (w.dtype is x.dtype is y.dtype is float64):
        if (w.shape, x.shape, y.shape) == grad_tanh_regression_shapes:
            return grad_tanh_regression_arrays(w, x, y, dout)
        if grad_tanh_regression_other_shapes is not None:
            return grad_tanh_regression_other_shapes(w, x, y, dout)
    # forward sweep
    check_inputs(w)
    z = np.dot(x, w)
    p = np.tanh(z)
    err = p - y
    # reverse sweep
    # return np.sum(err * err)
    derr = dout * err
    derr = derr + derr
    # err = p - y
    dp = unbroadcast(derr, p)
    # p = np.tanh(z)
    dz = dp * (1.0 - p * p)
    # z = np.dot(x, w)
    dw = dot_adjoint_b(dz, x, w)
    return like(dw, w)
'''

POWER_LOOP = '''\
def grad_power_loop(x, w, n, dout=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is type(w) is type(n) is ndarray and type(dout) is float and (x.dtype is w.dtype is n.dtype is float64):
        if (x.shape, w.shape, n.shape) == grad_power_loop_shapes:
            return grad_power_loop_arrays(x, w, n, dout)
        if grad_power_loop_other_shapes is not None:
            return grad_power_loop_other_shapes(x, w, n, dout)
    x_stack = Stack()
    # forward sweep
    check_inputs(x)
    for i in range(n):
        mul_x = x * w
        x_stack.push(x)
        x = mul_x
    if type(x) is not float:
        check_scalar(x)
        check_inputs(w)
    # reverse sweep
    dx = dout
    dw = zeros_like(w)
    # for i in range(n):
    for i in reversed(range(n)):
        # x = x * w
        dmul_x = dx
        x = x_stack.pop()
        dx = unbroadcast(dmul_x * w, x)
        dw = dw + unbroadcast(dmul_x * x, w)
    return (like(dx, x), like(dw, w))
'''

BRANCH = '''\
def grad_branch(x, y, dz=1.0):
    # on Python floats: this code with math, written at the first such call (if math raises, the code below)
    if type(x) is type(y) is type(dz) is float:
        try:
            return grad_branch_floats(x, y, dz)
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(x) is type(y) is ndarray and type(dz) is float and (x.dtype is y.dtype is float64):
        if (x.shape, y.shape) == grad_branch_shapes:
            return grad_branch_arrays(x, y, dz)
        if grad_branch_other_shapes is not None:
            return grad_branch_other_shapes(x, y, dz)
    sin_x_stack = Stack()
    sin_x = None
    # forward sweep
    gt_x = x > 0.0
    if gt_x:
        z = x * y
    else:
        sin_x_stack.push(sin_x)
        sin_x = np.sin(x)
        z = sin_x + y
    if type(z) is not float:
        check_scalar(z)
        check_inputs(x, y)
    # reverse sweep
    # if x > 0.0:
    if gt_x:
        # z = x * y
        dx = unbroadcast(dz * y, x)
        dy = unbroadcast(dz * x, y)
    else:
        # z = np.sin(x) + y
        dsin_x = unbroadcast(dz, sin_x)
        dy = unbroadcast(dz, y)
        dx = dsin_x * np.cos(x)
        sin_x = sin_x_stack.pop()
    return (like(dx, x), like(dy, y))

def grad_branch_floats(x, y, dz):
    # forward sweep
    gt_x = x > 0.0
    # reverse sweep
    # if x > 0.0:
    if gt_x:
        # z = x * y
        dx = dz * y
        dy = dz * x
    else:
        # z = np.sin(x) + y
        dy = dz
        dx = dz * math.cos(x)
    return (dx, dy)
'''


def dict_params(params, x):
    h = np.tanh(x @ params["W"])
    return np.sum(h) * params["scale"]


DICT_PARAMS = """\
def grad_dict_params(params, x, dout=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(params) is type(x) is ndarray and type(dout) is float and (params.dtype is x.dtype is float64):
        if (params.shape, x.shape) == grad_dict_params_shapes:
            return grad_dict_params_arrays(params, x, dout)
        if grad_dict_params_other_shapes is not None:
            return grad_dict_params_other_shapes(params, x, dout)
    # forward sweep
    params_W = params['W']
    matmul_x = x @ params_W
    h = np.tanh(matmul_x)
    sum_h = np.sum(h)
    params_scale = params['scale']
    out = sum_h * params_scale
    if type(out) is not float:
        check_scalar(out)
        check_inputs(params)
    # reverse sweep
    # return np.sum(h) * params["scale"]
    dh = dout * params_scale
    dparams_scale = dout * sum_h
    dparams = scatter_add(dparams_scale, params, 'scale')
    # h = np.tanh(x @ params["W"])
    dmatmul_x = dh * (1.0 - h * h)
    dparams_W = matmul_adjoint_y(dmatmul_x, x, params_W)
    dparams = dparams + scatter_add(dparams_W, params, 'W')
    return like(dparams, params)
"""


def assert_source(derivative, expected):
    """Exact comparison, with both texts shown on failure."""
    got = derivative.source
    assert got == expected, f"generated source changed:\n--- got ---\n{got}\n--- expected ---\n{expected}"


def test_seed_example():
    d = srcad.grad(seed, wrt=(0, 1, 2))
    assert_source(d, SEED)
    args = (1.0, 3.0, -3.0)
    assert_grads_match(seed, args, (0, 1, 2), d(*args))


def test_straight_line_numpy():
    d = srcad.grad(tanh_regression, wrt="w")
    assert_source(d, TANH_REGRESSION)
    args = (RNG.standard_normal(3), RNG.standard_normal((5, 3)), RNG.standard_normal(5))
    assert_grads_match(tanh_regression, args, (0,), (d(*args),))


def test_loop():
    d = srcad.grad(power_loop, wrt=("x", "w"))
    assert_source(d, POWER_LOOP)
    for args in [(1.3, 0.9, 4), (1.3, 0.9, 0), (-0.4, 1.7, 3)]:
        assert_grads_match(power_loop, args, (0, 1), d(*args))


def test_branch():
    d = srcad.grad(branch, wrt=(0, 1))
    for args in [(0.8, -1.5), (-0.8, -1.5)]:            # both paths
        assert_grads_match(branch, args, (0, 1), d(*args))
        generic = tuple(np.float64(a) for a in args)    # not Python floats: the generic code
        assert_grads_match(branch, args, (0, 1), d(*generic))
    assert_source(d, BRANCH)                            # the float copy is written by now


def test_dict_argument():
    """Reads by key; the dict's adjoint holds the entries it received, and
    like() returns a plain dict with every key of the argument."""
    d = srcad.grad(dict_params)
    assert_source(d, DICT_PARAMS)
    params = {"W": RNG.standard_normal((3, 2)), "scale": 0.7, "unused": np.ones(2)}
    x = RNG.standard_normal(3)
    grads = d(params, x)
    assert set(grads) == set(params) and np.all(grads["unused"] == 0)
    for key in ("W", "scale"):
        entry = lambda v, key=key: dict_params({**params, key: v}, x)    # noqa: E731
        assert_grads_match(entry, (params[key],), (0,), (grads[key],))
