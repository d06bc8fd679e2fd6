"""srcad's gradients of autograd's own example programs against autograd's, and
against the programs' forward passes.

The programs (the MLP classifier ``neural_net.py``, ``rnn.py`` and ``lstm.py``
of github.com/HIPS/autograd) are read from a checkout, as
``examples_autograd.py`` does (``--repo PATH`` or ``AUTOGRAD_REPO``; the
directory holding ``examples/``), in two versions: as published for autograd,
and with the allowed substitutions for srcad.  For each program the script
times, on the same inputs,

- ``forward``:   the program's loss (the srcad version, plain NumPy),
- ``srcad``:     ``srcad.grad(loss)`` of it,
- ``autograd``:  ``autograd.grad(loss)`` of the published version,

with BLAS pinned to one thread, samples interleaved (forward, srcad, autograd,
autograd, srcad, forward, ...) and medians reported, after checking that both
gradients agree to 1e-6.  ``--sweep`` times the RNN and LSTM gradients per time
step for sequence lengths T = 15 ... 1000 (a constant figure means no cost
grows faster than the sequence).

Run::

    python benchmarks/bench_examples.py --repo /path/to/autograd
    python benchmarks/bench_examples.py --sweep --only rnn
    python benchmarks/bench_examples.py --list-sweep --lengths 15 100 1000 3000
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import examples_autograd as ex  # noqa: E402
import srcad  # noqa: E402


def _mlp(mod, rs, size):
    images = rs.randn(size, 784)
    labels = np.eye(10)[rs.randint(0, 10, size)]
    params = mod.init_random_params(0.1, [784, 200, 100, 10])

    def objective(params):
        return -mod.log_posterior(params, images, labels, 1.0)
    return objective, params


def _rnn(mod, rs, steps, predict="rnn"):
    inputs = np.eye(128)[rs.randint(0, 128, (steps, 60))]          # as rnn.py: 60 lines, 128 chars
    if predict == "rnn":
        params = mod.create_rnn_params(input_size=128, output_size=128, state_size=40, param_scale=0.01)
        loglik = mod.rnn_log_likelihood
    else:
        params = mod.init_lstm_params(input_size=128, output_size=128, state_size=40, param_scale=0.01)
        loglik = mod.lstm_log_likelihood

    def training_loss(params):
        return -loglik(params, inputs, inputs)
    return training_loss, params


def list_rnn_loss(W, xs):
    """An RNN over a plain Python list of T inputs, its states collected in a
    list and read back by index (``--list-sweep``: gradient w.r.t. W and xs)."""
    h = np.zeros(W.shape[0])
    hs = []
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    total = 0.0
    for t in range(len(hs)):
        total = total + np.sum(hs[t] * xs[t])
    return total


def list_sweep(lengths, units=20, samples=5):
    """Median gradient time per step of ``list_rnn_loss`` for each T."""
    rng = np.random.default_rng(0)
    W = 0.3 * rng.standard_normal((units, units))
    ours = srcad.grad(list_rnn_loss, wrt=(0, 1))
    print(f"{'T':>6} {'srcad/step':>12}")
    for steps in lengths:
        xs = [rng.standard_normal(units) for _ in range(steps)]
        ours(W, xs)
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            ours(W, xs)
            times.append(time.perf_counter() - start)
        print(f"{steps:6d} {1e6 * float(np.median(times)) / steps:10.1f}µs")


CASES = {
    "mlp": ("neural_net", lambda mod, rs, n: _mlp(mod, rs, n or 256)),
    "rnn": ("rnn", lambda mod, rs, n: _rnn(mod, rs, n or 30, "rnn")),
    "lstm": ("lstm", lambda mod, rs, n: _rnn(mod, rs, n or 30, "lstm")),
}


def load(root, module):
    for name in [m for m in sys.modules if m in ex._LOCAL or m.startswith("driver_")]:
        del sys.modules[name]
    sys.path.insert(0, root)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(root)


def build(roots, case, n):
    """(forward, srcad gradient, autograd gradient) as functions of nothing."""
    import autograd
    module, make = CASES[case]
    theirs = load(roots["autograd"], module)
    f_a, p_a = make(theirs, np.random.RandomState(0), n)
    ours = load(roots["srcad"], module)
    f_s, p_s = make(ours, np.random.RandomState(0), n)
    g_s, g_a = srcad.grad(f_s), autograd.grad(f_a)
    diff = ex.compare(g_s(p_s), g_a(p_a))
    if diff:
        raise SystemExit(f"{case}: srcad's gradient differs from autograd's: {diff}")
    return {"forward": lambda: f_s(p_s), "srcad": lambda: g_s(p_s), "autograd": lambda: g_a(p_a)}


def time_interleaved(fns, samples, target=0.02):
    """Median seconds per call of each function, samples interleaved."""
    reps = {}
    for key, fn in fns.items():
        fn()
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        reps[key] = max(1, int(target / max(once, 1e-9)))
    times = {key: [] for key in fns}
    order = list(fns)
    gc.disable()
    try:
        for s in range(samples):
            for key in (order if s % 2 == 0 else order[::-1]):
                fn, n = fns[key], reps[key]
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                times[key].append((time.perf_counter() - start) / n)
    finally:
        gc.enable()
    return {key: float(np.median(v)) for key, v in times.items()}


def peak_memory(fn):
    """Peak bytes traced during one call (after a warm-up call)."""
    import tracemalloc
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def page_faults(fn, calls=10):
    """Minor page faults per call: memory the C allocator gave back to the OS
    and takes again (see benchmarks/README.md); Linux and macOS only."""
    import resource
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=os.environ.get("AUTOGRAD_REPO"))
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--sweep", action="store_true", help="RNN/LSTM time per step over T")
    parser.add_argument("--lengths", type=int, nargs="*", default=[15, 60, 240, 1000])
    parser.add_argument("--memory", action="store_true",
                        help="peak memory (tracemalloc) and page faults per call instead of times")
    parser.add_argument("--list-sweep", action="store_true",
                        help="an RNN over a plain list of T inputs, per step (no checkout needed)")
    args = parser.parse_args(argv)
    if args.list_sweep:
        list_sweep(args.lengths)
        return 0
    if not args.repo:
        parser.error("give --repo PATH (a checkout of github.com/HIPS/autograd) or set AUTOGRAD_REPO")
    ex._stub_modules()
    tmp = tempfile.mkdtemp(prefix="srcad_bench_examples_")
    roots = {v: ex.write_tree(os.path.join(tmp, v), os.path.join(args.repo, "examples"), v)
             for v in ("autograd", "srcad")}
    cases = [c for c in CASES if not args.only or c in args.only]
    if args.sweep:
        print(f"{'case':6} {'T':>6} {'srcad/step':>12} {'autograd/step':>14} {'autograd÷srcad':>15}")
        for case in cases:
            if case == "mlp":
                continue
            for steps in args.lengths:
                with contextlib.redirect_stdout(io.StringIO()):
                    fns = build(roots, case, steps)
                fns.pop("forward")
                t = time_interleaved(fns, max(3, args.samples // 3), target=0.05)
                print(f"{case:6} {steps:6d} {1e6 * t['srcad'] / steps:10.1f}µs "
                      f"{1e6 * t['autograd'] / steps:12.1f}µs {t['autograd'] / t['srcad']:15.2f}")
        return 0
    if args.memory:
        print(f"{'case':6} {'':10} {'forward':>10} {'srcad':>10} {'autograd':>10}")
        for case in cases:
            with contextlib.redirect_stdout(io.StringIO()):
                fns = build(roots, case, None)
            peaks = {k: peak_memory(fn) for k, fn in fns.items()}
            faults = {k: page_faults(fn) for k, fn in fns.items()}
            print(f"{case:6} {'peak':10} " + " ".join(f"{peaks[k] / 1e6:8.2f}MB" for k in fns))
            print(f"{'':6} {'faults':10} " + " ".join(f"{faults[k]:10.0f}" for k in fns))
        return 0
    print(f"{'case':6} {'forward':>10} {'srcad':>10} {'autograd':>10} {'srcad÷fwd':>10} "
          f"{'autograd÷fwd':>13} {'autograd÷srcad':>15}")
    for case in cases:
        with contextlib.redirect_stdout(io.StringIO()):
            fns = build(roots, case, None)
        t = time_interleaved(fns, args.samples)
        print(f"{case:6} {1e3 * t['forward']:8.2f}ms {1e3 * t['srcad']:8.2f}ms {1e3 * t['autograd']:8.2f}ms "
              f"{t['srcad'] / t['forward']:10.2f} {t['autograd'] / t['forward']:13.2f} "
              f"{t['autograd'] / t['srcad']:15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
