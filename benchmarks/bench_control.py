"""srcad's gradients through loops against hand-written reverse loops.

Two cases, each with a goal for the ratio srcad / hand-written:

- ``rnn``: a tanh RNN (hidden 32, input 16) run for 50 steps by a Python
  ``for`` loop, loss = sum of squares of the last state, gradient w.r.t. both
  weight matrices, against a hand-written BPTT in NumPy (goal <= 1.2).
- ``iter-array`` / ``iter-float``: 1000 iterations of
  ``x = x - 0.01 * np.sin(x) * y`` on float arrays of 100 elements and on
  Python floats, gradient w.r.t. x and y, against a hand-written reverse loop
  (goal <= 1.5).

Method as in ``bench_core.py`` (whose timing helpers this script uses): BLAS
pinned to one thread before NumPy is imported, both gradients checked equal
(``np.allclose``) before any timing, interleaved samples, medians.  Peak
memory is measured afterwards, in runs of their own (``tracemalloc``, one
call per run, smallest peak of three), and the script counts the stack pushes
in srcad's generated loop: the values it keeps per iteration.

Run from the repository root:

    python benchmarks/bench_control.py           # full run, about half a minute
    python benchmarks/bench_control.py --quick   # smoke run, a few seconds
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"                   # before NumPy is imported

import argparse                               # noqa: E402
import gc                                     # noqa: E402
import pathlib                                # noqa: E402
import platform                               # noqa: E402
import re                                     # noqa: E402
import sys                                    # noqa: E402
import tracemalloc                            # noqa: E402

import numpy as np                            # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_core import (check_same, commit, compare, fmt_time,  # noqa: E402
                        srcad, threadpoolctl)


# ---------------------------------------------------------------------------
# (a) tanh RNN, backpropagation through time
# ---------------------------------------------------------------------------

def rnn_loss(Wh, Wx, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    return np.sum(h * h)


def rnn_grad_by_hand(Wh, Wx, xs, h0):
    hs = [h0]                                # every state, for the reverse sweep
    h = h0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
        hs.append(h)
    dh = 2.0 * h
    dWh = np.zeros_like(Wh)
    dWx = np.zeros_like(Wx)
    for t in range(len(xs) - 1, -1, -1):
        h = hs[t + 1]
        da = dh * (1.0 - h * h)
        dWh += np.outer(da, hs[t])
        dWx += np.outer(da, xs[t])
        dh = Wh.T @ da
    return dWh, dWx


def rnn_case(rng):
    return rnn_sized(rng, 32, 50)


def rnn_sized(rng, hidden, steps, n_in=16):
    Wh = 0.5 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    xs = rng.standard_normal((steps, n_in))
    h0 = 0.1 * rng.standard_normal(hidden)
    return srcad.grad(rnn_loss, wrt=("Wh", "Wx")), rnn_grad_by_hand, (Wh, Wx, xs, h0)


# ---------------------------------------------------------------------------
# (b) a long loop of small elementwise operations
# ---------------------------------------------------------------------------

def iterate(x, y):
    for i in range(1000):
        x = x - 0.01 * np.sin(x) * y
    return np.sum(x)


def iterate_grad_by_hand(x, y):
    xs, sines = [], []                       # x and sin(x) of every iteration
    for i in range(1000):
        s = np.sin(x)
        xs.append(x)
        sines.append(s)
        x = x - 0.01 * s * y
    dx = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
    dy = 0.0
    for i in range(999, -1, -1):
        dy = dy - 0.01 * sines[i] * dx
        dx = dx - 0.01 * np.cos(xs[i]) * y * dx
    return dx, dy


def iterate_array_case(rng):
    x = rng.standard_normal(100)
    y = rng.uniform(0.5, 1.5, 100)
    return srcad.grad(iterate, wrt=("x", "y")), iterate_grad_by_hand, (x, y)


def iterate_float_case(rng):
    return srcad.grad(iterate, wrt=("x", "y")), iterate_grad_by_hand, (0.7, 1.3)


CASES = [
    # name, detail, factory, goal for srcad / hand
    ("rnn", "tanh RNN, hidden 32, input 16, 50 steps, sum(h_T**2); grad Wh Wx", rnn_case, 1.2),
    ("iter-array", "1000 x  x = x - 0.01*sin(x)*y, arrays of 100; grad x y", iterate_array_case, 1.5),
    ("iter-float", "same on Python floats", iterate_float_case, 1.5),
]


# ---------------------------------------------------------------------------
# memory and stacks
# ---------------------------------------------------------------------------

def peak_memory(fn, args, runs=3):
    """Smallest peak of bytes allocated during one call of ``fn(*args)``."""
    fn(*args)                                # warm up: first-call allocations
    peaks = []
    for _ in range(runs):
        gc.collect()
        tracemalloc.start()
        try:
            fn(*args)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks)


def stack_pushes(source):
    """The ``name_stack.push(value)`` statements of generated code: (stack, value) pairs."""
    return re.findall(r"(\w+)\.push\((\w+(?:\(\w+\))?)\)", source)


def fmt_bytes(n):
    return f"{n / 1024:8.1f} KiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few short samples: a smoke run")
    parser.add_argument("--samples", type=int, help="timing samples per case (default 51, quick 7)")
    parser.add_argument("--only", nargs="*", metavar="CASE", help="run only these cases")
    options = parser.parse_args(argv)
    samples = options.samples or (7 if options.quick else 51)
    target = 0.01 if options.quick else 0.05             # seconds per sample

    limiter = threadpoolctl.threadpool_limits(1) if threadpoolctl else None
    print(f"srcad {srcad.__version__}{commit()}, NumPy {np.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, BLAS threads pinned to 1"
          f"{' (threadpoolctl)' if limiter else ' (environment)'}")
    print(f"{samples} interleaved samples per case, ~{target * 1e3:.0f} ms each; median per call\n")

    rng = np.random.default_rng(0)
    header = f"{'case':<11} {'srcad':>11} {'hand':>11} {'ratio':>6}  {'goal':>6}  what"
    print(header)
    print("-" * len(header))
    rows, built = [], {}
    for name, detail, factory, goal in CASES:
        if options.only and name not in options.only:
            continue
        derivative, by_hand, args = factory(rng)
        check_same(name, derivative(*args), by_hand(*args))
        built[name] = derivative, by_hand, args
        t_srcad, t_hand, number = compare(derivative, by_hand, args, samples, target)
        ratio = t_srcad / t_hand
        mark = "ok" if ratio <= goal else "MISS"
        rows.append((name, t_srcad, t_hand, ratio, goal, mark))
        print(f"{name:<11} {fmt_time(t_srcad)} {fmt_time(t_hand)} {ratio:6.2f}  "
              f"<={goal:<4.2f} {mark:>4}  {detail}", flush=True)

    print(f"\npeak memory of one call (tracemalloc, separate runs, smallest of 3)")
    header = f"{'case':<11} {'srcad':>12} {'hand':>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, (derivative, by_hand, args) in built.items():
        m_srcad, m_hand = peak_memory(derivative, args), peak_memory(by_hand, args)
        print(f"{name:<11} {fmt_bytes(m_srcad)} {fmt_bytes(m_hand)} {m_srcad / m_hand:6.2f}")

    if not options.only or "rnn" in options.only:
        print("\npeak memory of the RNN gradient, hidden 256, input 16 (issue 14's sizes)")
        for steps in (50, 1000):
            derivative, by_hand, args = rnn_sized(rng, 256, steps)
            m_srcad, m_hand = peak_memory(derivative, args), peak_memory(by_hand, args)
            print(f"rnn T={steps:<5} {fmt_bytes(m_srcad)} {fmt_bytes(m_hand)} {m_srcad / m_hand:6.2f}")

    for name, (derivative, _, _) in built.items():
        pushes = stack_pushes(derivative.source)
        values = ", ".join(value for _, value in pushes)
        print(f"\n{name}: {len(pushes)} stack pushes per iteration in srcad's loop ({values})")
    return rows


if __name__ == "__main__":
    main()
