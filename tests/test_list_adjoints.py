"""The adjoints of lists read element by element (issue 13, speed section).

A loop that reads ``o[t]`` from a list of T values accumulates ``add_at(do,
dot, o, t)``: one entry, not a T-long adjoint of zeros per read (which made
RNN gradients quadratic in T).  A reversed loop skips, in its last
iteration, the adjoint of a loop-carried value that nothing after the loop
reads (an MLP's data).  Every gradient here is checked against central finite
differences (tests/helpers.py); the code is only inspected to check that the
fast path is the one taken.
"""

import numpy as np

import srcad
from helpers import assert_close, assert_tree_close, numerical_grad, numerical_grad_tree

RNG = np.random.default_rng(13)


def rnn_outputs(params, inputs):
    """autograd's rnn.py shape: a list of per-step outputs, read back by index."""
    hiddens = np.tanh(params["init"]) * np.ones((inputs.shape[1], 1))
    output = [hiddens @ params["predict"]]
    for x in inputs:
        hiddens = np.tanh(np.hstack((x, hiddens)) @ params["change"])
        output.append(hiddens @ params["predict"])
    return output


def rnn_loss(params, inputs):
    out = rnn_outputs(params, inputs)
    total = 0.0
    for t in range(len(inputs)):
        total += np.sum(np.sin(out[t]) * inputs[t])
    return total


def rnn_params(n_in=3, n_h=4):
    return {"init": RNG.standard_normal((1, n_h)),
            "change": 0.5 * RNG.standard_normal((n_in + n_h, n_h)),
            "predict": RNG.standard_normal((n_h, n_in))}


def test_rnn_over_a_list_of_outputs_matches_finite_differences():
    params, inputs = rnn_params(), RNG.standard_normal((6, 2, 3))
    g = srcad.grad(rnn_loss)
    assert "add_into(" in g.source
    assert_tree_close(g(params, inputs), numerical_grad_tree(rnn_loss, (params, inputs), 0), rtol=1e-6)


def mlp(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return np.sum(outputs ** 2)


def layers(sizes):
    return [(0.5 * RNG.standard_normal((m, n)), RNG.standard_normal(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def test_mlp_skips_the_adjoint_of_its_data_and_matches_finite_differences():
    params, x = layers([3, 4, 5, 2]), RNG.standard_normal((6, 3))
    g = srcad.grad(mlp)
    assert "if i != 0:" in g.source
    got = g(params, x)
    assert type(got) is list and all(type(layer) is tuple for layer in got)
    assert_tree_close(got, numerical_grad_tree(mlp, (params, x), 0))


def test_mlp_gradient_of_the_data_itself_is_still_computed():
    params, x = layers([3, 4, 2]), RNG.standard_normal((5, 3))
    dparams, dx = srcad.grad(mlp, wrt=(0, 1))(params, x)
    assert_tree_close(dparams, numerical_grad_tree(mlp, (params, x), 0))
    assert_close(dx, numerical_grad(mlp, (params, x), 1))


def carried_from_one(W, x, n):
    h = x
    for i in range(1, n):
        h = np.sin(W @ h) * i
    return np.sum(h * h)


def test_a_range_loop_not_starting_at_zero_skips_only_its_own_first_step():
    W, x = 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    g = srcad.grad(carried_from_one)
    assert "if i != 1:" in g.source
    assert_close(g(W, x, 4), numerical_grad(carried_from_one, (W, x, 4), 0))
    assert_close(srcad.grad(carried_from_one, wrt=1)(W, x, 4), numerical_grad(carried_from_one, (W, x, 4), 1))


def rows_of_array(xs, w):
    total = 0.0
    for t in range(len(xs)):
        total = total + np.sum(np.cos(xs[t] * w)) * t
    return total


def test_reading_rows_of_an_array_in_a_loop_matches_finite_differences():
    xs, w = RNG.standard_normal((5, 3)), RNG.standard_normal(3)
    g = srcad.grad(rows_of_array)
    assert "add_into(" in g.source
    assert_close(g(xs, w), numerical_grad(rows_of_array, (xs, w), 0))


def reads_twice(L, w):
    total = 0.0
    for t in range(len(L)):
        total = total + np.sum(L[t] * w) + np.sum(L[t] ** 2)
    return total + np.sum(L[0] * L[-1])


def test_entries_read_several_times_accumulate():
    L, w = [RNG.standard_normal(3) for _ in range(4)], RNG.standard_normal(3)
    got = srcad.grad(reads_twice)(L, w)
    assert type(got) is list
    assert_tree_close(got, numerical_grad_tree(reads_twice, (L, w), 0))


def only_first(L):
    return np.sum(L[0] ** 2)


def test_entries_never_read_come_back_as_writeable_zeros():
    L = [RNG.standard_normal((2, 3)), RNG.standard_normal(4)]
    got = srcad.grad(only_first)(L)
    assert_tree_close(got, numerical_grad_tree(only_first, (L,), 0))
    assert got[1].flags.writeable and got[1].shape == (4,)
    got[1] += 1.0                                    # a gradient of the user's own


def list_of_rows(x):
    L = [x * 2.0, np.sin(x), x ** 2]
    total = 0.0
    for t in range(3):
        total = total + np.sum(L[t] * L[2 - t])
    return total


def numerical_hessian(f, x, h=1e-4):
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def at(si, sj):
                y = x.copy()
                y[i] += si * h
                y[j] += sj * h
                return f(y)
            H[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
    return H


def test_hessian_through_add_at_and_the_skipped_last_step():
    x = RNG.standard_normal(3)
    assert_close(srcad.hessian(list_of_rows)(x), numerical_hessian(list_of_rows, x), rtol=1e-5, atol=1e-6)
    W = 0.5 * RNG.standard_normal((3, 3))

    def carried(x):
        return carried_from_one(W, x, 4)
    assert_close(srcad.hessian(carried)(x), numerical_hessian(carried, x), rtol=1e-5, atol=1e-6)


def test_jvp_through_a_list_read_in_a_loop():
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    _, tangent = srcad.jvp(list_of_rows)(x, v)
    assert_close(tangent, float(numerical_grad(list_of_rows, (x,), 0) @ v))


def nested_reads(L, w):
    total = 0.0
    for k in range(3):
        for t in range(len(L)):
            total = total + np.sum(np.sin(L[t] * w) * (k + 1))
    return total


def test_nested_loops_accumulate_in_place_and_match_finite_differences():
    L, w = [RNG.standard_normal(3) for _ in range(4)], RNG.standard_normal(3)
    before = [x.copy() for x in L]
    g = srcad.grad(nested_reads, wrt=(0, 1))
    assert "owned(" in g.source and "released(" in g.source
    dL, dw = g(L, w)
    assert all(np.array_equal(x, y) for x, y in zip(L, before))      # the input list untouched
    assert type(dL) is list
    assert_tree_close(dL, numerical_grad_tree(nested_reads, (L, w), 0))
    assert_close(dw, numerical_grad(nested_reads, (L, w), 1))


def read_and_reused(L):
    total = 0.0
    for t in range(len(L)):
        total = total + np.sum(L[t] ** 2) + np.sum(L[0] * L[t])
    return total


def test_an_array_argument_read_by_rows_is_not_modified():
    X = RNG.standard_normal((4, 3))
    before = X.copy()
    got = srcad.grad(read_and_reused)(X)
    assert np.array_equal(X, before)
    assert_close(got, numerical_grad(read_and_reused, (X,), 0))
