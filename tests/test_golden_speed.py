"""Golden tests of the workloads of issue 14 (benchmarks/bench_core.py): the
exact gradient code srcad writes for the MLP loss and the tanh RNN, after the
clean-up passes of srcad/passes.  (The seed example is pinned in
test_golden.py.)  Read a change before updating a string: it should still
read like the hand-written gradient -- the MLP's loss value and output check
are not computed, the max shift broadcasts its cotangent; the RNN's loop
saves the states and the shapes of the two products, and each weight's
outer products are contracted once after the loop.  Both are called first,
so the strings end with the copy for float64 arrays of those shapes
(srcad/passes/arrays.py): no helper is left in the MLP's, and the RNN's
keeps no shapes and contracts its rows as they come.  Every test also checks
the gradient against central finite differences.
"""

import numpy as np

import srcad

from helpers import assert_grads_match

RNG = np.random.default_rng(14)


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def rnn_loss(Wh, Wx, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    return np.sum(h * h)


MLP = """\
def grad_mlp_loss(W1, b1, W2, b2, X, Y, dout=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(W1) is type(b1) is type(W2) is type(b2) is type(X) is type(Y) is ndarray and type(dout) is float and (W1.dtype is b1.dtype is W2.dtype is b2.dtype is X.dtype is Y.dtype is float64):
        if (W1.shape, b1.shape, W2.shape, b2.shape, X.shape, Y.shape) == grad_mlp_loss_shapes:
            return grad_mlp_loss_arrays(W1, b1, W2, b2, X, Y, dout)
        if grad_mlp_loss_other_shapes is not None:
            return grad_mlp_loss_other_shapes(W1, b1, W2, b2, X, Y, dout)
    # forward sweep
    check_inputs(W1, b1, W2, b2)
    matmul_X = X @ W1
    add_b1 = matmul_X + b1
    h = np.tanh(add_b1)
    matmul_h = h @ W2
    logits = matmul_h + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    exp_z = np.exp(z)
    sum_z = np.sum(exp_z, axis=1, keepdims=True)
    log_z = np.log(sum_z)
    logp = z - log_z
    mul_Y = Y * logp
    X_shape = X.shape
    X0 = X_shape[0]
    # reverse sweep
    # return -np.sum(Y * logp) / X.shape[0]
    dneg_Y = dout / X0
    dsum_Y = -dneg_Y
    dmul_Y = repeat_to(dsum_Y, mul_Y, None, False)
    dlogp = unbroadcast(dmul_Y * Y, logp)
    # logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    dz = unbroadcast(dlogp, z)
    dlog_z = unbroadcast(-dlogp, log_z)
    dexp_z = dlog_z / sum_z
    dz = dz + dexp_z * exp_z
    # z = logits - m
    dlogits = unbroadcast(dz, logits)
    dm = unbroadcast(-dz, m)
    # m = np.max(logits, axis=1, keepdims=True)
    m_hit = logits == m
    dlogits = dlogits + dm / np.sum(m_hit, axis=1, keepdims=True) * m_hit
    # logits = h @ W2 + b2
    dmatmul_h = unbroadcast(dlogits, matmul_h)
    db2 = unbroadcast(dlogits, b2)
    dh = matmul_adjoint_x(dmatmul_h, h, W2)
    dW2 = matmul_adjoint_y(dmatmul_h, h, W2)
    # h = np.tanh(X @ W1 + b1)
    dadd_b1 = dh * (1.0 - h * h)
    dmatmul_X = unbroadcast(dadd_b1, matmul_X)
    db1 = unbroadcast(dadd_b1, b1)
    dW1 = matmul_adjoint_y(dmatmul_X, X, W1)
    return (like(dW1, W1), like(db1, b1), like(dW2, W2), like(db2, b2))

def grad_mlp_loss_arrays(W1, b1, W2, b2, X, Y, dout):
    # forward sweep
    matmul_X = X @ W1
    add_b1 = matmul_X + b1
    h = np.tanh(add_b1)
    matmul_h = h @ W2
    logits = matmul_h + b2
    m = logits.max(axis=1, keepdims=True)
    z = logits - m
    exp_z = np.exp(z)
    sum_z = exp_z.sum(axis=1, keepdims=True)
    X_shape = X.shape
    X0 = X_shape[0]
    # reverse sweep
    # return -np.sum(Y * logp) / X.shape[0]
    dneg_Y = dout / X0
    dmul_Y = -dneg_Y
    dlogp = dmul_Y * Y
    # logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    dz = dlogp
    dlog_z = -dlogp.sum(axis=1, keepdims=True)
    dexp_z = dlog_z / sum_z
    dz = dz + dexp_z * exp_z
    # z = logits - m
    dlogits = dz
    dm = -dz.sum(axis=1, keepdims=True)
    # m = np.max(logits, axis=1, keepdims=True)
    m_hit = logits == m
    dlogits = dlogits + dm / m_hit.sum(axis=1, keepdims=True) * m_hit
    # logits = h @ W2 + b2
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    # h = np.tanh(X @ W1 + b1)
    dadd_b1 = dh * (1.0 - h * h)
    db1 = dadd_b1.sum(axis=0)
    dW1 = X.T @ dadd_b1
    return (dW1, db1, dW2, db2)
"""

RNN = """\
def grad_rnn_loss(Wh, Wx, xs, h0, dout=1.0):
    # on float64 arrays: this code for their shapes, written at the first call with them (the copy for the first shapes is shown below)
    if type(Wh) is type(Wx) is type(xs) is type(h0) is ndarray and type(dout) is float and (Wh.dtype is Wx.dtype is xs.dtype is h0.dtype is float64):
        if (Wh.shape, Wx.shape, xs.shape, h0.shape) == grad_rnn_loss_shapes:
            return grad_rnn_loss_arrays(Wh, Wx, xs, h0, dout)
        if grad_rnn_loss_other_shapes is not None:
            return grad_rnn_loss_other_shapes(Wh, Wx, xs, h0, dout)
    h_stack = Stack()
    matmul_Wh_stack = Stack()
    matmul_Wx_stack = Stack()
    x_stack = Stack()
    matmul_Wh = None
    matmul_Wx = None
    x = None
    # forward sweep
    check_inputs(Wh, Wx)
    h = h0
    len_xs = len(xs)
    for i in range(len_xs):
        x_stack.push(x)
        x = xs[i]
        matmul_Wh_stack.push(shape_of(matmul_Wh))
        matmul_Wh = Wh @ h
        matmul_Wx_stack.push(shape_of(matmul_Wx))
        matmul_Wx = Wx @ x
        add_Wh = matmul_Wh + matmul_Wx
        h_stack.push(h)
        h = np.tanh(add_Wh)
    mul_h = h * h
    # reverse sweep
    # return np.sum(h * h)
    dmul_h = repeat_to(dout, mul_h, None, False)
    dh = unbroadcast(dmul_h * h, h)
    dh = dh + dh
    # for x in xs:
    dmatmul_Wh_rows = Stack()
    h_rows = Stack()
    dmatmul_Wx_rows = Stack()
    x_rows = Stack()
    for i in reversed(range(len_xs)):
        # h = np.tanh(Wh @ h + Wx @ x)
        dadd_Wh = dh * (1.0 - h * h)
        h = h_stack.pop()
        dmatmul_Wh = unbroadcast(dadd_Wh, matmul_Wh)
        dmatmul_Wx = unbroadcast(dadd_Wh, matmul_Wx)
        dmatmul_Wx_rows.push(dmatmul_Wx)
        x_rows.push(x)
        matmul_Wx = matmul_Wx_stack.pop()
        dmatmul_Wh_rows.push(dmatmul_Wh)
        h_rows.push(h)
        if i != 0:
            dh = matmul_adjoint_y(dmatmul_Wh, Wh, h)
        matmul_Wh = matmul_Wh_stack.pop()
        x = x_stack.pop()
    dWh = matmul_adjoint_x_rows(dmatmul_Wh_rows, Wh, h_rows)
    dWx = matmul_adjoint_x_rows(dmatmul_Wx_rows, Wx, x_rows)
    return (like(dWh, Wh), like(dWx, Wx))

def grad_rnn_loss_arrays(Wh, Wx, xs, h0, dout):
    h_stack = Stack()
    x_stack = Stack()
    x = None
    # forward sweep
    h = h0
    len_xs = len(xs)
    for i in range(len_xs):
        x_stack.push(x)
        x = xs[i]
        matmul_Wh = Wh @ h
        matmul_Wx = Wx @ x
        add_Wh = matmul_Wh + matmul_Wx
        h_stack.push(h)
        h = np.tanh(add_Wh)
    # reverse sweep
    # return np.sum(h * h)
    dh = dout * h
    dh = dh + dh
    # for x in xs:
    dmatmul_Wh_rows = OuterProducts()
    dmatmul_Wx_rows = OuterProducts()
    for i in reversed(range(len_xs)):
        # h = np.tanh(Wh @ h + Wx @ x)
        dadd_Wh = dh * (1.0 - h * h)
        h = h_stack.pop()
        dmatmul_Wx_rows.left(dadd_Wh)
        dmatmul_Wx_rows.right(x)
        dmatmul_Wh_rows.left(dadd_Wh)
        dmatmul_Wh_rows.right(h)
        if i != 0:
            dh = Wh.T @ dadd_Wh
        x = x_stack.pop()
    dWh = dmatmul_Wh_rows.total(Wh.shape)
    dWx = dmatmul_Wx_rows.total(Wx.shape)
    return (dWh, dWx)
"""


def assert_source(derivative, expected):
    got = derivative.source
    assert got == expected, f"generated source changed:\n--- got ---\n{got}\n--- expected ---\n{expected}"


def test_mlp():
    """After the first call: the generic code and its copy for the shapes of
    that call (srcad/passes/arrays.py), which reads as the hand-written
    gradient does, plus the max shift's cotangent."""
    d = srcad.grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"))
    X = RNG.standard_normal((6, 4))
    Y = np.eye(3)[RNG.integers(0, 3, 6)]
    args = (RNG.standard_normal((4, 5)), RNG.standard_normal(5), RNG.standard_normal((5, 3)),
            RNG.standard_normal(3), X, Y)
    assert_grads_match(mlp_loss, args, (0, 1, 2, 3), d(*args))
    assert_source(d, MLP)


def test_rnn():
    """After the first call: the generic code, then its copy for those shapes,
    which reads as a hand-written BPTT (one matmul per step back, the outer
    products contracted as the rows come, no shapes kept)."""
    d = srcad.grad(rnn_loss, wrt=("Wh", "Wx"))
    args = (0.5 * RNG.standard_normal((4, 4)), RNG.standard_normal((4, 3)),
            RNG.standard_normal((5, 3)), RNG.standard_normal(4))
    assert_grads_match(rnn_loss, args, (0, 1), d(*args))
    assert_source(d, RNN)
