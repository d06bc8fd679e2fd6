"""srcad's generated gradients against hand-written NumPy gradients.

For each case the script first checks that both gradients agree
(``np.allclose``), then takes many timing samples, alternating srcad and the
hand-written gradient sample by sample (and swapping which goes first), and
reports the median time per call and the ratio srcad / hand.  It also times
the transformation itself (parse ... compile) of the MLP loss with srcad's
cache cleared.  BLAS is pinned to one thread so the numbers measure the code,
not the thread pool.

Run from the repository root:

    python benchmarks/bench_core.py           # full run, about half a minute
    python benchmarks/bench_core.py --quick   # smoke run, a few seconds
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"                   # before NumPy is imported

import argparse                               # noqa: E402
import gc                                     # noqa: E402
import pathlib                                # noqa: E402
import platform                               # noqa: E402
import statistics                             # noqa: E402
import subprocess                             # noqa: E402
import sys                                    # noqa: E402
import time                                   # noqa: E402

import numpy as np                            # noqa: E402

try:
    import threadpoolctl                      # optional; not a dependency
except ImportError:
    threadpoolctl = None

try:
    import srcad                              # noqa: E402
except ImportError:                           # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad                              # noqa: E402
import srcad.api                              # noqa: E402


# ---------------------------------------------------------------------------
# (a) two-layer MLP, softmax cross-entropy with one-hot targets
# ---------------------------------------------------------------------------

def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp_loss_stop(W1, b1, W2, b2, X, Y):
    """The same loss, with the max shift marked constant as JAX's logsumexp does:
    its derivative cancels, so srcad need not compute it."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = srcad.stop_gradient(np.max(logits, axis=1, keepdims=True))
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp_grad_by_hand(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)            # softmax
    dlogits = (p - Y) / X.shape[0]
    dW2 = h.T @ dlogits
    db2 = np.sum(dlogits, axis=0)
    da = (dlogits @ W2.T) * (1.0 - h * h)
    dW1 = X.T @ da
    db1 = np.sum(da, axis=0)
    return dW1, db1, dW2, db2


MLP_WRT = ("W1", "b1", "W2", "b2")


def mlp_case(rng):
    batch, n_in, n_hidden, n_out = 64, 32, 128, 10
    X = rng.standard_normal((batch, n_in))
    Y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    W1 = rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)
    b1 = 0.1 * rng.standard_normal(n_hidden)
    W2 = rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)
    b2 = 0.1 * rng.standard_normal(n_out)
    return srcad.grad(mlp_loss, wrt=MLP_WRT), mlp_grad_by_hand, (W1, b1, W2, b2, X, Y)


def mlp_stop_case(rng):
    _, hand, args = mlp_case(rng)
    return srcad.grad(mlp_loss_stop, wrt=MLP_WRT), hand, args


def mlp_dict_loss(params, X, Y):
    """mlp_loss_stop with its parameters in a dict (the gradient is a dict)."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    m = srcad.stop_gradient(np.max(logits, axis=1, keepdims=True))
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp_dict_grad_by_hand(params, X, Y):
    grads = mlp_grad_by_hand(params["W1"], params["b1"], params["W2"], params["b2"], X, Y)
    return dict(zip(MLP_WRT, grads))


def mlp_dict_case(rng):
    _, _, (W1, b1, W2, b2, X, Y) = mlp_case(rng)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return srcad.grad(mlp_dict_loss), mlp_dict_grad_by_hand, (params, X, Y)


# ---------------------------------------------------------------------------
# (b) logistic regression, mean loss, labels in {-1, +1}
# ---------------------------------------------------------------------------

def logreg_loss(w, X, y):
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def logreg_grad_by_hand(w, X, y):
    s = -y * (X @ w)
    sigma = np.exp(s - np.logaddexp(0.0, s))             # sigmoid(s), stable
    return X.T @ (-y * sigma) / X.shape[0]


def logreg_case(rng):
    n, d = 10000, 50
    X = rng.standard_normal((n, d))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    w = 0.1 * rng.standard_normal(d)
    return srcad.grad(logreg_loss, wrt="w"), logreg_grad_by_hand, (w, X, y)


# ---------------------------------------------------------------------------
# (c) the seed example: Python floats, and float arrays (then a VJP)
# ---------------------------------------------------------------------------

def seed(x, y, z):
    p = x + y
    g = p * z
    return g


def seed_grad_by_hand(x, y, z):
    p = x + y
    return z, z, p


def seed_vjp_by_hand(x, y, z, v):
    p = x + y
    dp = v * z
    return dp, dp, v * p


def seed_float_case(rng):
    return srcad.grad(seed, wrt=(0, 1, 2)), seed_grad_by_hand, (1.0, 3.0, -3.0)


def seed_array_case(rng):
    x, y, z, v = (rng.standard_normal(1000) for _ in range(4))
    return srcad.vjp(seed, wrt=(0, 1, 2)), seed_vjp_by_hand, (x, y, z, v)


# ---------------------------------------------------------------------------
# (d) straight-line scalar code on Python floats: 34 float operations plus
#     sin, exp and log (the hand-written gradient uses np.* on floats, as
#     people write it)
# ---------------------------------------------------------------------------

def scalar_poly(x, y, z):
    a = x * y + 2.0 * x - z
    b = a * a - 3.0 * y * z + 1.0
    c = np.sin(a) * b + np.exp(-0.5 * z * z)
    d = np.log(1.0 + x * x) + c * y - a / (2.0 + b * b)
    e = d * d + x * y * z - 0.25 * c
    return e * 0.5 + a * b - c / 3.0


def scalar_poly_grad_by_hand(x, y, z):
    a = x * y + 2.0 * x - z
    b = a * a - 3.0 * y * z + 1.0
    sa = np.sin(a)
    ez = np.exp(-0.5 * z * z)
    c = sa * b + ez
    q = 2.0 + b * b
    d = np.log(1.0 + x * x) + c * y - a / q
    gd = d                                   # 0.5 * 2 d
    gc = gd * y - 0.125 - 1.0 / 3.0
    ga = b - gd / q + gc * b * np.cos(a)
    gb = a + gd * 2.0 * a * b / (q * q) + gc * sa
    ga = ga + 2.0 * a * gb
    gx = 0.5 * y * z + gd * 2.0 * x / (1.0 + x * x) + ga * (y + 2.0)
    gy = 0.5 * x * z + gd * c - 3.0 * z * gb + ga * x
    gz = 0.5 * x * y - gc * ez * z - 3.0 * y * gb - ga
    return gx, gy, gz


def scalar_case(rng):
    return srcad.grad(scalar_poly, wrt=(0, 1, 2)), scalar_poly_grad_by_hand, (0.3, -0.7, 1.1)


# (e) loops, from bench_control.py: 1,000 scalar steps and a tanh RNN (BPTT)

def loop_float_case(rng):
    from bench_control import iterate_float_case
    return iterate_float_case(rng)


def rnn_case(rng):
    from bench_control import rnn_case as case
    return case(rng)


CASES = [
    # name, detail, factory, goal for srcad / hand
    ("mlp", "MLP 32-128-10, batch 64, tanh, softmax x-ent; grad W1 b1 W2 b2", mlp_case, 1.15),
    ("mlp-stop", "same, max shift under srcad.stop_gradient (as in JAX's logsumexp)",
     mlp_stop_case, 1.10),
    ("mlp-dict", "same as mlp-stop, parameters in a dict; grad params (a dict)", mlp_dict_case, 1.10),
    ("logreg", "logistic regression, X 10000x50, mean logaddexp; grad w", logreg_case, 1.05),
    ("seed-float", "p = x + y; g = p * z on Python floats; grad x y z", seed_float_case, 1.15),
    ("seed-array", "same on float arrays of 1000, vjp with a cotangent", seed_array_case, 1.5),
    ("scalar", "34 float operations + sin, exp, log on Python floats; grad x y z", scalar_case, 0.6),
    ("loop-float", "1000 x  x = x - 0.01*sin(x)*y on Python floats; grad x y", loop_float_case, 0.6),
    ("rnn", "tanh RNN, hidden 32, input 16, 50 steps (BPTT); grad Wh Wx", rnn_case, 1.05),
]


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------

def check_same(name, got, expected):
    if isinstance(expected, dict):
        if set(got) != set(expected):
            raise SystemExit(f"{name}: srcad's gradient has keys {sorted(got)}, expected {sorted(expected)}")
        got, expected = tuple(got[k] for k in expected), tuple(expected.values())
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected), f"{name}: {len(got)} gradients, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected)):
        if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=1e-10, atol=1e-12):
            raise SystemExit(f"{name}: srcad's gradient {i} differs from the hand-written one; "
                             f"refusing to benchmark wrong code")


#: the clock samples are read with: wall time, or with ``--cpu`` this process's
#: CPU time (on a machine shared with other work, time spent descheduled is
#: then not counted; cache and memory-bandwidth contention still are)
CLOCK = [time.perf_counter]


def per_call(fn, args, number):
    """Seconds per call of ``fn(*args)``, averaged over ``number`` calls."""
    loop = range(number)
    clock = CLOCK[0]
    start = clock()
    for _ in loop:
        fn(*args)
    return (clock() - start) / number


def calibrate(fn, args, target):
    """How many calls make one sample last about ``target`` seconds."""
    number = 1
    while True:
        elapsed = per_call(fn, args, number) * number
        if elapsed >= target / 4 or number >= 1 << 20:
            return max(1, int(number * target / max(elapsed, 1e-9)))
        number *= 4


def compare(a, b, args, samples, target):
    """Median seconds per call of ``a`` and ``b``, samples interleaved."""
    for _ in range(3):                       # warm up caches and allocators
        a(*args), b(*args)
    number = max(calibrate(a, args, target), calibrate(b, args, target))
    times_a, times_b = [], []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(samples):
            if i % 2 == 0:
                times_a.append(per_call(a, args, number))
                times_b.append(per_call(b, args, number))
            else:
                times_b.append(per_call(b, args, number))
                times_a.append(per_call(a, args, number))
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times_a), statistics.median(times_b), number


def transformation_time(repeats):
    """Median seconds of ``srcad.grad(mlp_loss, wrt=...)`` with srcad's cache cleared."""
    srcad.grad(mlp_loss, wrt=MLP_WRT)                    # imports, first-use costs
    times = []
    for _ in range(repeats):
        mlp_loss.__dict__.pop("__srcad_cache__", None)   # srcad caches on the function
        start = CLOCK[0]()
        srcad.grad(mlp_loss, wrt=MLP_WRT)
        times.append(CLOCK[0]() - start)
    return statistics.median(times)


def commit():
    """`` (git abc1234)`` for the checkout srcad was imported from, if any."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=pathlib.Path(srcad.__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" (git {out.stdout.strip()})" if out.returncode == 0 else ""


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.2f} us"
    return f"{seconds * 1e3:8.3f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few short samples: a smoke run")
    parser.add_argument("--samples", type=int, help="timing samples per case (default 101, quick 11)")
    parser.add_argument("--only", nargs="*", metavar="CASE", help="run only these cases")
    parser.add_argument("--cpu", action="store_true",
                        help="time with this process's CPU time (a machine shared with other work)")
    options = parser.parse_args(argv)
    if options.cpu:
        CLOCK[0] = time.process_time
    samples = options.samples or (11 if options.quick else 101)
    target = 0.002 if options.quick else 0.01            # seconds per sample
    repeats = 5 if options.quick else 21

    limiter = threadpoolctl.threadpool_limits(1) if threadpoolctl else None
    print(f"srcad {srcad.__version__}{commit()}, NumPy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, BLAS threads pinned to 1"
          f"{' (threadpoolctl)' if limiter else ' (environment)'}")
    print(f"{samples} interleaved samples per case, ~{target * 1e3:.0f} ms each; median per call\n")

    rng = np.random.default_rng(0)
    header = f"{'case':<11} {'srcad':>11} {'hand':>11} {'ratio':>6}  {'goal':>6}  what"
    print(header)
    print("-" * len(header))
    rows = []
    for name, detail, factory, goal in CASES:
        if options.only and name not in options.only:
            continue
        derivative, by_hand, args = factory(rng)
        check_same(name, derivative(*args), by_hand(*args))
        t_srcad, t_hand, number = compare(derivative, by_hand, args, samples, target)
        ratio = t_srcad / t_hand
        mark = "ok" if ratio <= goal else "MISS"
        rows.append((name, t_srcad, t_hand, ratio, goal, mark))
        print(f"{name:<11} {fmt_time(t_srcad)} {fmt_time(t_hand)} {ratio:6.2f}  "
              f"<={goal:<4.2f} {mark:>4}  {detail}", flush=True)

    if not options.only or "transform" in options.only:
        t = transformation_time(repeats)
        mark = "ok" if t < 0.010 else "MISS"
        print(f"\ntransformation of the MLP loss (cache cleared, median of {repeats}): "
              f"{t * 1e3:.2f} ms  (goal < 10 ms: {mark})")
    return rows


if __name__ == "__main__":
    main()
