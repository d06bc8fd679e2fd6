"""The NumPy and np.linalg rules of issue 12 through the whole pipeline.

``tests/test_rules.py`` and ``tests/test_forward.py`` check each rule called
directly; here functions as a user writes them -- unpacking the tuple that
``np.linalg.eigh`` or ``np.split`` returns, using one result only, einsum in
a loop -- go through ``srcad.grad`` and ``srcad.jvp`` and are compared with
central differences (tests/helpers.py).  Then the conventions at
non-differentiable points (NaN in nansum, ties in sort), the refusals (a write
through a view, arguments a rule does not cover) and second derivatives.
"""

import numpy as np
import pytest

import srcad
from srcad.errors import SrcadError
from srcad.runtime import UnsupportedArgumentError

from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(12)


def _sym(n):
    q, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    return q @ np.diag(np.arange(1.0, n + 1)) @ q.T


def _full_rank(m, n):
    u, _ = np.linalg.qr(RNG.standard_normal((m, min(m, n))))
    v, _ = np.linalg.qr(RNG.standard_normal((n, min(m, n))))
    return u @ np.diag(np.arange(1.0, min(m, n) + 1)) @ v.T


def eigh_energy(a, x):
    w, v = np.linalg.eigh(a)
    return np.sum(w * (v.T @ x) ** 2)


def eigvals_only(a):
    return np.sum(np.linalg.eigh(a)[0] ** 3)


def eigvecs_only(a, x):
    _, v = np.linalg.eigh(a)
    return np.sum(np.abs(v[:, -1] @ x))


def svd_nuclear(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s) + np.sum((u @ vh) ** 2 * a)


def svd_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 2)


def svd_default_square(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u[:, 0] * vh[0] * s[0]) + np.sum(np.sin(u))


def qr_loss(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * np.cos(q)) + np.sum(r ** 2 * np.tril(np.ones((2, 2)) + 0.0))


def logdet(a):
    sign, value = np.linalg.slogdet(a)
    return value * 2.0


def pinv_lstsq(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=None)
    return np.sum(x ** 2) + np.sum(residuals) + np.sum(np.linalg.pinv(a) * a.T) + s[0]


def power_and_eig(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.linalg.matrix_power(a, 3)) + np.sum(w ** 2) + np.sum(v[0] ** 2 * w)


def einsum_attention(q, k, v):
    scores = np.einsum("...qd,...kd->...qk", q, k)
    weights = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    weights = weights / np.sum(weights, axis=-1, keepdims=True)
    return np.sum(np.einsum("...qk,...kd", weights, v) ** 2)


def einsum_loop(x, w):
    h = x
    for _ in range(3):
        h = np.tanh(np.einsum("ij,j->i", w, h))
    return np.einsum("i,i", h, h) + np.einsum("ii", w)


def tensordot_kron(a, b):
    return np.sum(np.tensordot(a, b, axes=([1], [0])) ** 2) + np.sum(np.kron(a, b) * 0.5)


def split_and_join(x):
    top, bottom = np.split(x, 2)
    left, right = np.hsplit(x, [1])
    pieces = np.array_split(x, 3, axis=1)
    return (np.sum(top * bottom) + np.sum(left ** 2) + np.sum(right[0]) + np.sum(pieces[2] * 3.0)
            + np.sum(np.vstack(np.vsplit(x, 4)[1:]) ** 2))


def rearrange(x):
    y = np.repeat(x, 2, axis=0) + np.tile(x, (2, 1))
    z = np.pad(x, ((1, 2), (0, 1)), mode="reflect")[2:-1, 1:] * 2.0 + np.pad(x, 1)[1:-1, :-2]
    d = np.diag(np.diag(x[:2, :2])) + np.diagonal(x[:2, :2])[:, None]
    return (np.sum(y ** 2) + np.sum(np.sin(z)) + np.sum(d * x[:2, :2]) + np.sum(np.roll(x, 1) * x)
            + np.sum(np.rot90(x) ** 3) + np.sum(np.flipud(x) * np.fliplr(x)))


def sorting(x):
    s = np.sort(x, axis=None)
    p = np.partition(x[0], 1)
    return np.sum(s * np.arange(s.size)) + p[0] * 3.0 + np.sum(np.take(x, [0, 3, 3]) ** 2) \
        + np.sum(np.take_along_axis(x, np.argsort(x, axis=1), axis=1)[:, 0])


def stacks(x, y):
    a, b = np.atleast_2d(x, y[0])
    c = np.append(x, y[1]) * 2.0
    g1, g2 = np.meshgrid(x, y[:, 0])
    return (np.sum(a * 2.0) + np.sum(b) + np.sum(c ** 2) + np.sum(g1 * g2) + np.sum(np.column_stack((x, y[0])) ** 2)
            + np.sum(np.cross(y[:, :3], np.ones(3) + y[0, :3])))


def elementwise(x, w):
    return (np.sum(np.sinc(x) + np.deg2rad(x) * np.degrees(w[0])) + np.average(x, axis=0, weights=w[:, 0])[1]
            + np.sum(np.cumprod(x, axis=1)) + np.nansum(x ** 2) + np.nanmean(x, axis=0)[0]
            + np.sum(np.select([x > 0.3, x < -0.3], [x ** 2, np.sin(x)], 1.5)) + np.sum(np.nan_to_num(x) * 2.0)
            + np.sum(x.astype(float) ** 2) + np.sum(np.real(x) + np.imag(x) + np.conj(x) + np.angle(x)))


def differences(x, v):
    return (np.sum(np.diff(x, axis=0) ** 2) + np.sum(np.gradient(x[0])) + np.sum(np.gradient(x)[1] ** 2)
            + np.sum(np.convolve(x[0], v, mode="same") ** 2) + np.sum(np.convolve(v, x[1]) * 0.3))


def index_concatenations(x, y):
    return np.sum(np.r_[x, y, 3.0] * np.arange(8.0)) + np.sum(np.c_[x[:3], y] ** 2) + np.sum(np.r_["0", x, y] ** 3)


def integer_cast(x):
    n = np.int64(np.floor(x[0] * 0.0 + 2.0))
    return np.sum(x[:n] ** 2) + x.astype(int).sum() * 1.0


def batched(a, b):
    return (np.sum(np.linalg.inv(a)) + np.sum(np.linalg.det(a)) + np.sum(np.linalg.solve(a, b))
            + np.sum(np.linalg.cholesky(a @ np.swapaxes(a, -1, -2))))


def _well(shape):
    return RNG.uniform(-0.5, 0.5, shape) + 2.0 * np.eye(shape[-1])


def _real_spectrum(n):
    s = RNG.uniform(-1.0, 1.0, (n, n)) + 2.0 * np.eye(n)
    return s @ np.diag(np.arange(1.0, n + 1) * 1.3) @ np.linalg.inv(s)


def _distinct(shape):
    n = int(np.prod(shape))
    return ((RNG.permutation(n) - n / 2) * 0.3 + RNG.uniform(-0.05, 0.05, n)).reshape(shape)


CASES = [
    ("eigh", eigh_energy, (_sym(3), RNG.standard_normal(3)), (0, 1)),
    ("eigh-values", eigvals_only, (_sym(4),), (0,)),
    ("eigh-vectors", eigvecs_only, (_sym(3), RNG.standard_normal(3)), (0, 1)),
    ("svd", svd_nuclear, (_full_rank(4, 3),), (0,)),
    ("svd-values", svd_values, (_full_rank(2, 3),), (0,)),
    ("svd-square", svd_default_square, (_full_rank(3, 3),), (0,)),
    ("qr", qr_loss, (_full_rank(3, 2),), (0,)),
    ("slogdet", logdet, (_well((3, 3)),), (0,)),
    ("lstsq-pinv", pinv_lstsq, (_full_rank(4, 2), RNG.standard_normal(4)), (0, 1)),
    ("eig-matrix_power", power_and_eig, (_real_spectrum(3),), (0,)),
    ("einsum-attention", einsum_attention, tuple(RNG.standard_normal((2, 3, 2)) for _ in range(3)), (0, 1, 2)),
    ("einsum-loop", einsum_loop, (RNG.standard_normal(3), RNG.standard_normal((3, 3)) * 0.5), (0, 1)),
    ("tensordot-kron", tensordot_kron, (RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))), (0, 1)),
    ("split", split_and_join, (RNG.standard_normal((4, 3)),), (0,)),
    ("rearrange", rearrange, (RNG.standard_normal((4, 3)),), (0,)),
    ("sort", sorting, (_distinct((3, 4)),), (0,)),
    ("stacks", stacks, (RNG.standard_normal(4), RNG.standard_normal((3, 4))), (0, 1)),
    ("elementwise", elementwise, (_distinct((3, 2)) + 0.01, RNG.uniform(0.5, 1.5, (3, 2))), (0, 1)),
    ("differences", differences, (RNG.standard_normal((3, 5)), RNG.standard_normal(3)), (0, 1)),
    ("r_-c_", index_concatenations, (RNG.standard_normal(4), RNG.standard_normal(3)), (0, 1)),
    ("integer-cast", integer_cast, (RNG.uniform(0.1, 0.9, 4),), (0,)),
    ("batched-linalg", batched, (_well((2, 2, 3, 3)), RNG.standard_normal((2, 2, 3, 2))), (0, 1)),
]


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_grad_matches_finite_differences(name, f, args, wrt):
    before = [np.copy(a) for a in args]
    grads = srcad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, grads):
        assert_close(g, numerical_grad(f, args, i), rtol=1e-5, atol=1e-6)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_finite_differences(name, f, args, wrt):
    vs = [RNG.standard_normal(np.shape(args[i])) for i in wrt]
    value, tangent = srcad.jvp(f, wrt=wrt)(*args, *vs)
    assert_close(value, f(*args), rtol=1e-12, atol=0)
    h = 1e-6

    def at(step):
        shifted = list(args)
        for i, v in zip(wrt, vs):
            shifted[i] = args[i] + step * v
        return f(*shifted)
    assert_close(tangent, (at(h) - at(-h)) / (2 * h), rtol=1e-5, atol=1e-6)


# --- conventions ----------------------------------------------------------------------

def test_nan_elements_get_no_gradient_from_nansum_and_nanmean():
    x = np.array([[1.0, np.nan], [2.0, 3.0]])

    def f(x):
        return np.nansum(x * 2.0) + np.nanmean(x, axis=0)[1]
    np.testing.assert_array_equal(srcad.grad(f)(x), [[2.0, 0.0], [2.0, 3.0]])
    value, tangent = srcad.jvp(f)(x, np.ones((2, 2)))
    assert tangent == 2.0 * 3 + 1.0


def test_nan_to_num_gives_zero_where_the_input_is_not_finite():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    np.testing.assert_array_equal(srcad.grad(lambda_sum_nan_to_num)(x), [3.0, 0.0, 0.0, 0.0, 3.0])


def lambda_sum_nan_to_num(x):
    return np.sum(np.nan_to_num(x, posinf=1.0) * 3.0)


def sorted_weighted(x):
    return np.sum(np.sort(x) * np.array([1.0, 2.0, 3.0, 4.0]))


def test_tied_elements_of_sort_take_the_gradient_of_positions_in_stable_order():
    x = np.array([2.0, 1.0, 2.0, 0.5])
    # sorted: 0.5 (x[3]), 1.0 (x[1]), 2.0 (x[0]), 2.0 (x[2]): the tie keeps x's order
    np.testing.assert_array_equal(srcad.grad(sorted_weighted)(x), [3.0, 2.0, 4.0, 1.0])
    # the sum over the tied elements is the one-sided derivative of the total
    assert np.sum(srcad.grad(sorted_weighted)(x)[[0, 2]]) == 7.0


def test_sinc_has_zero_derivative_at_zero():
    assert srcad.grad(np_sinc)(0.0) == 0.0


def np_sinc(x):
    return np.sinc(x)


def test_integer_casts_are_constants():
    def f(x):
        return x * np.int64(3.7) + x.astype(np.int32).sum() * 1.0
    assert srcad.grad(f)(np.float64(2.5)) == 3.0


# --- refusals -------------------------------------------------------------------------

def write_through_diagonal_view(x):
    d = np.diagonal(x)
    d[0] = 1.0
    return np.sum(x)


def write_through_split_piece(x):
    y = x * 2.0
    a = np.atleast_2d(x)
    a[0, 0] = 1.0
    return np.sum(y + a)


@pytest.mark.parametrize("f", [write_through_diagonal_view, write_through_split_piece])
def test_a_write_through_a_view_of_an_argument_is_refused(f):
    with pytest.raises(SrcadError, match="in place"):
        srcad.grad(f)(np.ones((2, 2)))


def pad_ramp(x):
    return np.sum(np.pad(x, 2, mode="linear_ramp"))


def eig_complex(a):
    return np.sum(np.linalg.eig(a)[0])


def svd_full_extra(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u)


@pytest.mark.parametrize("f, x, what", [
    (pad_ramp, np.ones(3), "linear_ramp"),
    (eig_complex, np.array([[0.0, -1.0], [1.0, 0.0]]), "real eigenvalues"),
    (svd_full_extra, np.arange(6.0).reshape(3, 2) + np.eye(3, 2), "not unique"),
])
def test_arguments_a_rule_does_not_cover_are_refused(f, x, what):
    with pytest.raises(UnsupportedArgumentError, match=what):
        srcad.grad(f)(x)


@pytest.mark.slow
def test_autograd_coverage_has_nothing_wrong_and_nothing_crashing():
    """benchmarks/coverage_autograd.py: srcad is never wrong, never crashes, and
    differentiates every NumPy entry of autograd's tested list in both modes."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "coverage_autograd.py"
    spec = importlib.util.spec_from_file_location("coverage_autograd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main()
    assert not [r for r in results if {r[2], r[4]} & {"wrong", "crash"}]
    assert not [r for r in results if not r[0].startswith("scipy") and (r[2], r[4]) != ("ok", "ok")]


SECOND_ORDER = {"eigh", "eigh-values", "eigh-vectors", "slogdet", "eig-matrix_power", "rearrange", "sort",
                "integer-cast", "batched-linalg"}


@pytest.mark.parametrize("name, f, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_hvp_matches_finite_differences_of_the_gradient_or_is_refused_at_the_gradient(name, f, args, wrt):
    """Second derivatives: through the helpers srcad can differentiate again they
    match finite differences of the gradient; the others are refused cleanly,
    at the line of the generated gradient, never by reading srcad's source."""
    vs = [RNG.standard_normal(np.shape(args[i])) for i in wrt]
    if name not in SECOND_ORDER:
        with pytest.raises(srcad.UnknownPrimitiveError, match="second derivatives") as info:
            srcad.hvp(f, wrt=wrt)(*args, *vs)
        assert "_np_helpers.py" not in str(info.value).split("hint:")[0]
        return
    hv = srcad.hvp(f, wrt=wrt)(*args, *vs)
    gradient = srcad.grad(f, wrt=wrt)
    h = 1e-5

    def at(step):
        shifted = list(args)
        for i, v in zip(wrt, vs):
            shifted[i] = args[i] + step * v
        return gradient(*shifted)
    up, down = at(h), at(-h)
    for k in range(len(wrt)):
        assert_close(hv[k], (np.asarray(up[k]) - np.asarray(down[k])) / (2 * h), rtol=1e-4, atol=1e-5)
