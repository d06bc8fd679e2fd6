"""In-place updates of arrays made inside the function, and what is refused."""

import numpy as np
import pytest

import srcad
from helpers import check_case

RNG = np.random.default_rng(3)


def fill_states(W, x0, T):
    h = np.zeros((T + 1, 3))
    h[0] = x0
    for t in range(T):
        h[t + 1] = np.tanh(W @ h[t])
    return np.sum(h ** 2)


def augmented_items(x):
    y = x * 1.0
    y[1] += 2.0 * x[0]
    y[0:2] *= x[2]
    y[-1] = y[0] * y[1]
    return np.sum(y ** 2)


def column_update(A, v):
    B = A.copy()
    B[:, 0] = np.sin(v)
    B[1] -= v
    return np.sum(B * A)


def overwritten_then_read(x):
    y = np.ones(3)
    z = y * x          # reads y before the update
    y[0] = x[1] ** 2
    return np.sum(z * y)


CASES = [
    ("loop_fills_rows", fill_states, (0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal(3), 4), (0, 1)),
    ("augmented_items", augmented_items, (RNG.standard_normal(3),), (0,)),
    ("column_and_row", column_update, (RNG.standard_normal((3, 3)), RNG.standard_normal(3)), (0, 1)),
    ("overwritten_then_read", overwritten_then_read, (RNG.standard_normal(3),), (0,)),
]


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_in_place_updates_match_finite_differences(name, f, args, wrt):
    check_case(f, args, wrt)


def test_only_the_overwritten_part_is_saved():
    source = srcad.grad(fill_states, wrt=(0, 1)).source
    assert "h_stack.push(np.copy(h[add_t]))" in source
    assert "h[add_t] = h_stack.pop()" in source


def updates_an_argument(x):
    x[0] = 1.0
    return np.sum(x)


def updates_a_view_of_an_argument(x):
    v = x.reshape(-1)
    v[0] = 1.0
    return np.sum(x)


@pytest.mark.parametrize("f", [updates_an_argument, updates_a_view_of_an_argument])
def test_updating_a_callers_array_is_refused(f):
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(f)
    text = str(info.value)
    assert "in place" in text and "test_inplace.py" in text and "^" in text and ".copy()" in text


def copies_into_a_buffer(x):
    buf = np.zeros(3)
    np.copyto(buf, x * 2.0)
    return np.sum(buf)


def extends_a_list(x):
    out = []
    out.extend([x])
    return np.sum(np.stack(out))


@pytest.mark.parametrize("f, call", [(copies_into_a_buffer, "np.copyto"), (extends_a_list, "out.extend")])
def test_side_effect_on_an_active_value_is_refused(f, call):
    with pytest.raises(srcad.NonDifferentiableError) as info:
        srcad.grad(f)
    assert call in str(info.value)


def prints(x):
    print("x is", x)
    return x * x


def test_print_is_a_harmless_effect(capsys):
    assert srcad.grad(prints)(3.0) == 6.0
    assert "x is 3.0" in capsys.readouterr().out
