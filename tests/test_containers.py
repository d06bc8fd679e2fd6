"""Lists and tuples inside the differentiated function, checked against
central finite differences (tests/helpers.py)."""

import numpy as np
import pytest

import srcad
from helpers import check_case

RNG = np.random.default_rng(11)


def rnn_states(W, xs, h):
    hs = []
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def comprehension(x):
    ys = [np.sin(x * k) for k in range(3) if k != 1]
    return sum(ys).sum()


def nested_comprehension(x):
    return sum(x[i] * x[j] for i in range(3) for j in range(i, 3))


def generator_in_sum(x):
    return sum(v * v for v in x)


def array_of_list(x):
    return np.sum(np.array([x[0], x[1] * 2.0, np.sin(x[2])]) ** 2)


def list_literal_indexing(x):
    L = [x, x * 2.0, np.cos(x)]
    return np.sum(L[0] * L[2]) + np.sum(L[-2])


def pair(x):
    return np.sin(x), x * 3.0


def tuple_result(x):
    a, b = pair(x)
    return np.sum(a * b) + np.sum(a)


def only_second_of_tuple(x):
    _, b = pair(x)
    return np.sum(b ** 2)


def loop_over_list_of_arrays(W1, W2, x):
    h = x
    for W in [W1, W2]:
        h = np.tanh(W @ h)
    return np.sum(h)


def concatenate_list(x, y):
    parts = [x, y * 2.0]
    return np.sum(np.concatenate(parts) ** 2)


CASES = [
    ("rnn_states", rnn_states, (0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal((4, 3)),
                                RNG.standard_normal(3)), (0, 2)),
    ("comprehension", comprehension, (RNG.standard_normal(3),), (0,)),
    ("nested_comprehension", nested_comprehension, (RNG.standard_normal(3),), (0,)),
    ("generator_in_sum", generator_in_sum, (RNG.standard_normal(4),), (0,)),
    ("array_of_list", array_of_list, (RNG.standard_normal(3),), (0,)),
    ("list_literal_indexing", list_literal_indexing, (RNG.standard_normal(3),), (0,)),
    ("tuple_result", tuple_result, (RNG.standard_normal(3),), (0,)),
    ("only_second_of_tuple", only_second_of_tuple, (RNG.standard_normal(3),), (0,)),
    ("loop_over_list_of_arrays", loop_over_list_of_arrays,
     (RNG.standard_normal((3, 3)), RNG.standard_normal((2, 3)), RNG.standard_normal(3)), (0, 1, 2)),
    ("concatenate_list", concatenate_list, (RNG.standard_normal(2), RNG.standard_normal(3)), (0, 1)),
]


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_container_gradients_match_finite_differences(name, f, args, wrt):
    check_case(f, args, wrt)


def test_appended_list_is_restored_by_pop_not_a_stack():
    source = srcad.grad(rnn_states, wrt=(0, 2)).source
    assert "hs.append(h)" in source
    assert "hs_stack" not in source


def test_gradient_wrt_a_list_argument_is_a_list_of_gradients():
    def f(params, x):
        return np.sum(params[0] * x) + np.sum(params[1] ** 2)

    params = [RNG.standard_normal(3), RNG.standard_normal(2)]
    x = RNG.standard_normal(3)
    g = srcad.grad(f)(params, x)
    assert len(g) == 2
    np.testing.assert_allclose(g[0], x)
    np.testing.assert_allclose(g[1], 2.0 * params[1])
