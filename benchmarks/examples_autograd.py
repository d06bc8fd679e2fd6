"""autograd's example programs, as published, differentiated by srcad.

The example programs of github.com/HIPS/autograd (``examples/``) are not part
of this repository: this script reads them from a checkout (``--repo PATH`` or
the environment variable ``AUTOGRAD_REPO``; the directory that holds
``examples/``) and writes two copies of each to a temporary directory:

- as published, run with autograd (``pip install autograd``: a dependency of
  this benchmark only), and
- with the substitutions the issue allows: ``autograd.numpy`` → ``numpy``,
  ``autograd.scipy`` → ``scipy`` (its SciPy twin), ``from autograd import
  grad`` → ``from srcad import grad``, and autograd's own machinery
  (``autograd.misc.flatten``, ``autograd.misc.optimizers.adam``,
  ``autograd.test_util.check_grads``, ``elementwise_grad``,
  ``hessian_vector_product``, ``flatten_func``) replaced by the plain-NumPy
  helpers of ``SHIMS`` below, the way a user without autograd would write them.

The programs' main blocks load MNIST, draw plots and train for minutes; what
they differentiate is rebuilt by a *driver* (``DRIVERS``) that imports the
example module and defines the objective exactly as its main block does, on
small synthetic data.  Plotting (matplotlib) and the examples' ``data`` module
are stubbed.  For each example both versions compute the gradient at the same
point and the script reports

- ``match``    srcad's gradient equals autograd's to 1e-6 (relative, per leaf,
  and the gradient has the parameters' structure: lists as lists...),
- ``refused``  srcad raised one of its own errors (its message is shown),
- ``wrong``    the gradients differ, or the structure does,
- ``crash``    anything else went wrong in srcad's version.

Run::

    python benchmarks/examples_autograd.py --repo /path/to/autograd     # summary
    python benchmarks/examples_autograd.py -v                           # messages in full
    python benchmarks/examples_autograd.py --only rnn lstm
"""

import argparse
import importlib
import os
import re
import sys
import tempfile
import textwrap
import traceback
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import srcad  # noqa: E402
from srcad.errors import SrcadError  # noqa: E402

RTOL = 1e-6

# --- the user's replacements for autograd's own machinery -------------------------------
SHIMS = '''
"""Plain-NumPy stand-ins for autograd.misc and autograd.test_util."""
import numpy as np
import srcad


def flatten(params):
    """A list of (W, b) tuples (or any nesting of lists and tuples) as one vector."""
    return np.concatenate([np.ravel(leaf) for layer in params for leaf in layer]), None


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [np.asarray(tree, dtype=float)]


def _rebuild(tree, flat, at=0):
    if isinstance(tree, dict):
        out = {}
        for key in sorted(tree):
            out[key], at = _rebuild(tree[key], flat, at)
        return out, at
    if isinstance(tree, (list, tuple)):
        items = []
        for item in tree:
            value, at = _rebuild(item, flat, at)
            items.append(value)
        return type(tree)(items), at
    size = np.size(tree)
    return np.reshape(flat[at:at + size], np.shape(tree)), at + size


def flatten_func(func, example):
    """func of one vector, its unflatten, and example as a vector (a dict of arrays)."""
    names = sorted(example)
    shapes = [np.shape(example[k]) for k in names]
    ends = np.cumsum([int(np.prod(s)) for s in shapes])
    starts = [0] + [int(e) for e in ends[:-1]]
    flat0 = np.concatenate([np.ravel(example[k]) for k in names])

    def unflatten(flat):
        params = {}
        for i in range(len(names)):
            params[names[i]] = np.reshape(flat[starts[i]:int(ends[i])], shapes[i])
        return params

    def flat_func(flat):
        return func(unflatten(flat))
    return flat_func, unflatten, flat0


def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    flat, unflatten = np.concatenate([np.ravel(v) for v in _leaves(x)]), lambda f: _rebuild(x, f)[0]
    m = np.zeros(len(flat))
    v = np.zeros(len(flat))
    for i in range(num_iters):
        g = np.concatenate([np.ravel(leaf) for leaf in _leaves(grad(unflatten(flat), i))])
        if callback:
            callback(unflatten(flat), i, unflatten(g))
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g**2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        flat = flat - step_size * mhat / (np.sqrt(vhat) + eps)
    return unflatten(flat)


def check_grads(f, modes=None, order=2):
    return lambda *args: srcad.check_grad(f, *args)


def elementwise_grad(f):
    vjp_f = srcad.vjp(f)

    def df(x):
        return vjp_f(x, np.ones_like(x))
    return df


def hessian_vector_product(f):
    return srcad.hvp(f)
'''

DATA_STUB = '''
"""Stand-in for autograd's examples/data.py (MNIST loading is not needed here)."""
import numpy as np
import numpy.random as npr


def load_mnist():
    raise RuntimeError("MNIST is not loaded by this benchmark")


def save_images(*args, **kwargs):
    pass


def make_pinwheel(radial_std, tangential_std, num_classes, num_per_class, rate, rs=None):
    rs = rs if rs is not None else npr.RandomState(0)
    rads = np.linspace(0, 2 * np.pi, num_classes, endpoint=False)
    features = rs.randn(num_classes * num_per_class, 2) * np.array([radial_std, tangential_std])
    features[:, 0] += 1
    labels = np.repeat(np.arange(num_classes), num_per_class)
    angles = rads[labels] + rate * np.exp(features[:, 0])
    rotations = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)])
    rotations = np.reshape(rotations.T, (-1, 2, 2))
    return np.einsum("ti,tij->tj", features, rotations)
'''


class _Anything(types.ModuleType):
    """matplotlib and friends: every attribute is a callable that returns another."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(name)

    def __call__(self, *args, **kwargs):
        return _Anything("result")

    def __iter__(self):
        return iter(())


def _stub_modules():
    for name in ("matplotlib", "matplotlib.pyplot", "matplotlib.image", "matplotlib.cm"):
        sys.modules[name] = _Anything(name)


def substitute(text):
    """autograd's example text with the allowed substitutions (for srcad)."""
    text = re.sub(r"^import autograd\.scipy\.stats\.multivariate_normal as (\w+)",
                  r"from scipy.stats import multivariate_normal as \1", text, flags=re.M)
    text = re.sub(r"^from autograd\.misc(\.flatten|\.optimizers)? import", "from srcad_shims import",
                  text, flags=re.M)
    text = re.sub(r"^from autograd\.test_util import", "from srcad_shims import", text, flags=re.M)
    text = text.replace("autograd.numpy", "numpy").replace("autograd.scipy", "scipy")

    def from_autograd(match):
        names = [n.strip() for n in match.group(1).split(",")]
        own = [n for n in names if n.split(" as ")[0] in ("grad", "value_and_grad", "jacobian", "hessian")]
        other = [n for n in names if n not in own]
        lines = [f"from srcad import {', '.join(own)}"] if own else []
        lines += [f"from srcad_shims import {', '.join(other)}"] if other else []
        return "\n".join(lines)

    return re.sub(r"^from autograd import (.+)$", from_autograd, text, flags=re.M)


# --- drivers: what each main block differentiates, on small data -----------------------
# Each driver is a module ``driver_<name>`` that imports the example and defines
# ``compute(grad, value_and_grad)`` returning the gradient to compare.
DRIVERS = {
    "neural_net": ("neural_net.py", """
        from neural_net import *
        def compute(grad, value_and_grad):
            rs = npr.RandomState(1)
            train_images = rs.randn(64, 20)
            train_labels = np.eye(10)[rs.randint(0, 10, 64)]
            init_params = init_random_params(0.1, [20, 16, 12, 10])
            L2_reg = 1.0
            batch_size = 32
            num_batches = 2
            def batch_indices(iter):
                idx = iter % num_batches
                return slice(idx * batch_size, (idx + 1) * batch_size)
            def objective(params, iter):
                idx = batch_indices(iter)
                return -log_posterior(params, train_images[idx], train_labels[idx], L2_reg)
            return grad(objective)(init_params, 1)
    """),
    "neural_net_regression": ("neural_net_regression.py", """
        from neural_net_regression import *
        def compute(grad, value_and_grad):
            init_params = init_random_params(0.1, layer_sizes=[1, 4, 4, 1])
            inputs, targets = build_toy_dataset()
            weight_prior_variance = 10.0
            def objective(weights, t):
                return -logprob(weights, inputs, targets) - log_gaussian(weights, weight_prior_variance)
            return grad(objective)(init_params, 0)
    """),
    "rnn": ("rnn.py", """
        from rnn import *
        def compute(grad, value_and_grad):
            rs = npr.RandomState(2)
            train_inputs = np.eye(16)[rs.randint(0, 16, (12, 5))]
            init_params = create_rnn_params(input_size=16, output_size=16, state_size=8, param_scale=0.1)
            def training_loss(params, iter):
                return -rnn_log_likelihood(params, train_inputs, train_inputs)
            return grad(training_loss)(init_params, 0)
    """),
    "lstm": ("lstm.py", """
        from lstm import *
        def compute(grad, value_and_grad):
            rs = npr.RandomState(3)
            train_inputs = np.eye(16)[rs.randint(0, 16, (12, 5))]
            init_params = init_lstm_params(input_size=16, output_size=16, state_size=8, param_scale=0.1)
            def training_loss(params, iter):
                return -lstm_log_likelihood(params, train_inputs, train_inputs)
            return grad(training_loss)(init_params, 0)
    """),
    "gaussian_process": ("gaussian_process.py", """
        from gaussian_process import *
        def compute(grad, value_and_grad):
            D = 1
            num_params, predict, log_marginal_likelihood = make_gp_funs(rbf_covariance, num_cov_params=D + 1)
            X, y = build_toy_dataset(D=D)
            objective = lambda params: -log_marginal_likelihood(params, X, y)
            init_params = 0.1 * npr.RandomState(0).randn(num_params)
            return value_and_grad(objective)(init_params)[1]
    """),
    "variational_autoencoder": ("variational_autoencoder.py", """
        from variational_autoencoder import *
        def compute(grad, value_and_grad):
            latent_dim, data_dim = 3, 12
            gen_layer_sizes = [latent_dim, 10, 8, data_dim]
            rec_layer_sizes = [data_dim, 8, 10, latent_dim * 2]
            rs = npr.RandomState(4)
            train_images = np.where(rs.rand(40, data_dim) > 0.5, 1.0, -1.0)
            init_gen_params = init_net_params(0.1, gen_layer_sizes)
            init_rec_params = init_net_params(0.1, rec_layer_sizes)
            combined_init_params = (init_gen_params, init_rec_params)
            batch_size, num_batches = 20, 2
            def batch_indices(iter):
                idx = iter % num_batches
                return slice(idx * batch_size, (idx + 1) * batch_size)
            def objective(combined_params, iter):
                data_idx = batch_indices(iter)
                gen_params, rec_params = combined_params
                return -vae_lower_bound(gen_params, rec_params, train_images[data_idx], npr.RandomState(0)) / data_dim
            return grad(objective)(combined_init_params, 0)
    """),
    "gmm": ("gmm.py", """
        from gmm import *
        def compute(grad, value_and_grad):
            init_params = init_gmm_params(num_components=4, D=2, scale=0.1)
            data = make_pinwheel(radial_std=0.3, tangential_std=0.05, num_classes=3, num_per_class=10, rate=0.4)
            def objective(params):
                return -gmm_log_likelihood(params, data)
            flattened_obj, unflatten, flattened_init_params = flatten_func(objective, init_params)
            return grad(flattened_obj)(flattened_init_params)
    """),
    "black_box_svi": ("black_box_svi.py", """
        from black_box_svi import *
        def compute(grad, value_and_grad):
            D = 2
            def log_density(x, t):
                mu, log_sigma = x[:, 0], x[:, 1]
                sigma_density = norm.logpdf(log_sigma, 0, 1.35)
                mu_density = norm.logpdf(mu, 0, np.exp(log_sigma))
                return sigma_density + mu_density
            objective, gradient, unpack_params = black_box_variational_inference(log_density, D, num_samples=50)
            init_var_params = np.concatenate([-1 * np.ones(D), -5 * np.ones(D)])
            return gradient(init_var_params, 0)
    """),
    "bayesian_neural_net": ("bayesian_neural_net.py", """
        from bayesian_neural_net import *
        def compute(grad, value_and_grad):
            rbf = lambda x: np.exp(-(x**2))
            num_weights, predictions, logprob = make_nn_funs(
                layer_sizes=[1, 6, 6, 1], L2_reg=0.1, noise_variance=0.01, nonlinearity=rbf)
            inputs, targets = build_toy_dataset()
            log_posterior = lambda weights, t: logprob(weights, inputs, targets)
            objective, gradient, unpack_params = black_box_variational_inference(
                log_posterior, num_weights, num_samples=5)
            rs = npr.RandomState(0)
            init_var_params = np.concatenate([rs.randn(num_weights), -5 * np.ones(num_weights)])
            return gradient(init_var_params, 0)
    """),
    "negative_binomial_maxlike": ("negative_binomial_maxlike.py", """
        from negative_binomial_maxlike import *
        def compute(grad, value_and_grad):
            npr.seed(0)
            data = negbin_sample(r=5, p=0.5, size=200)
            r, p = fit_maxlike(data, r_guess=1)
            loglike = lambda r, p: np.sum(negbin_loglike(r, p, data))
            # at the fit the gradient is zero up to rounding (~1e-13 from either
            # tool), which a relative comparison cannot judge: compare it away from the fit
            return np.array([r, p]), grad(loglike)(0.5 * r, p)
    """),
    "ica": ("ica.py", """
        from ica import *
        def compute(grad, value_and_grad):
            observed_dimension, latent_dimension, n_samples = 6, 2, 15
            num_weights, sample, logprob, unpack_weights = make_ica_funs(observed_dimension, latent_dimension)
            num_latent_params = latent_dimension * n_samples
            total_num_params = num_weights + num_latent_params + 1
            def unpack_params(params):
                weights = unpack_weights(params[:num_weights])
                latents = np.reshape(params[num_weights : num_weights + num_latent_params], (latent_dimension, n_samples))
                noise_std = np.exp(params[-1])
                return weights, latents, noise_std
            rs = npr.RandomState(0)
            true_weights = np.zeros((observed_dimension, latent_dimension))
            for i in range(latent_dimension):
                true_weights[:, i] = np.sin(np.linspace(0, 4 + i * 3.2, observed_dimension))
            true_latents, data = sample(true_weights, n_samples, 1.0, rs)
            def objective(params):
                weight_matrix, latents, noise_std = unpack_params(params)
                return -logprob(weight_matrix, latents, noise_std, data) / n_samples
            init_params = npr.RandomState(0).randn(total_num_params)
            return value_and_grad(objective)(init_params)[1]
    """),
    "fluidsim": ("fluidsim/fluidsim.py", """
        from fluidsim import *
        def compute(grad, value_and_grad):
            simulation_timesteps = 3
            rs = npr.RandomState(5)
            init_smoke = rs.rand(8, 8)
            target = rs.rand(8, 8)
            rows, cols = target.shape
            def distance_from_target_image(smoke):
                return np.mean((target - smoke) ** 2)
            def convert_param_vector_to_matrices(params):
                vx = np.reshape(params[: (rows * cols)], (rows, cols))
                vy = np.reshape(params[(rows * cols) :], (rows, cols))
                return vx, vy
            def objective(params):
                init_vx, init_vy = convert_param_vector_to_matrices(params)
                final_smoke = simulate(init_vx, init_vy, init_smoke, simulation_timesteps)
                return distance_from_target_image(final_smoke)
            init_dx_and_dy = 0.3 * rs.randn(2 * rows * cols)
            return value_and_grad(objective)(init_dx_and_dy)[1]
    """),
    "rosenbrock": ("rosenbrock.py", """
        import rosenbrock as ex
        def compute(grad, value_and_grad):
            return ex.rosenbrock_with_grad(np.array([0.3, -0.7])), ex.result.x
    """),
    "logistic_regression": ("logistic_regression.py", """
        import logistic_regression as ex
        def compute(grad, value_and_grad):
            return ex.training_gradient_fun(np.array([0.1, -0.2, 0.3])), ex.weights
    """),
    "sinusoid": ("sinusoid.py", """
        import sinusoid as ex
        def compute(grad, value_and_grad):
            xs = [0.3, 1.7, -2.5]
            return [ex.d_fun(x) for x in xs], [ex.dd_fun(x) for x in xs]
    """),
    "tanh": ("tanh.py", """
        import tanh as ex
        def compute(grad, value_and_grad):
            x = np.linspace(-2, 2, 7)
            e = ex.egrad
            return e(ex.tanh)(x), e(e(ex.tanh))(x), e(e(e(e(ex.tanh))))(x)
    """),
}


def leaves(tree, path="g"):
    """(path, leaf) pairs and the container types, to compare two gradients."""
    if isinstance(tree, dict):
        for key in sorted(tree, key=repr):
            yield from leaves(tree[key], f"{path}[{key!r}]")
    elif isinstance(tree, (list, tuple)):
        yield path, type(tree).__name__ if type(tree) in (list, tuple) else "tuple"
        for k, item in enumerate(tree):
            yield from leaves(item, f"{path}[{k}]")
    else:
        yield path, np.asarray(tree, dtype=float)


def compare(ours, theirs):
    """None when they match, else what differs."""
    a, b = list(leaves(ours)), list(leaves(theirs))
    if [p for p, _ in a] != [p for p, _ in b]:
        return f"structure differs: {[p for p, _ in a][:6]} vs {[p for p, _ in b][:6]}"
    # a leaf that is zero up to rounding (a bias whose gradient cancels to 1e-18)
    # is judged on the scale of the whole gradient, not on its own
    tree = max([float(np.max(np.abs(y))) for _, y in b
                if not isinstance(y, str) and np.size(y)] or [0.0])
    for (path, x), (_, y) in zip(a, b):
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                return f"{path} is a {x}, autograd's a {y}"
            continue
        if np.shape(x) != np.shape(y):
            return f"{path}: shape {np.shape(x)} vs {np.shape(y)}"
        scale = max(np.max(np.abs(y)) if y.size else 0.0, 1e-6 * tree, 1e-12)
        err = np.max(np.abs(x - y)) / scale if y.size else 0.0
        if not err <= RTOL:
            return f"{path}: relative error {err:.2e}"
    return None


def write_tree(root, examples, version):
    """The examples (and stubs) for one version under root; returns the directory."""
    os.makedirs(root, exist_ok=True)
    for name, (rel, driver) in DRIVERS.items():
        text = open(os.path.join(examples, rel)).read()
        if version == "srcad":
            text = substitute(text)
        with open(os.path.join(root, os.path.basename(rel)), "w") as f:
            f.write(text)
        with open(os.path.join(root, f"driver_{name}.py"), "w") as f:
            f.write("import numpy as np\nimport numpy.random as npr\n" + textwrap.dedent(driver))
    for fname, text in (("srcad_shims.py", SHIMS), ("data.py", DATA_STUB)):
        with open(os.path.join(root, fname), "w") as f:
            f.write(text)
    return root


def run_version(root, name, version):
    """compute() of one driver in a fresh module world for one version."""
    for mod in [m for m in sys.modules if m.startswith("driver_") or m in _LOCAL]:
        del sys.modules[mod]
    sys.path.insert(0, root)
    try:
        driver = importlib.import_module(f"driver_{name}")
        if version == "srcad":
            return driver.compute(srcad.grad, srcad.value_and_grad)
        import autograd
        return driver.compute(autograd.grad, autograd.value_and_grad)
    finally:
        sys.path.remove(root)


_LOCAL = {os.path.splitext(os.path.basename(rel))[0] for rel, _ in DRIVERS.values()} | {"srcad_shims", "data"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=os.environ.get("AUTOGRAD_REPO"),
                        help="checkout of HIPS/autograd (or set AUTOGRAD_REPO)")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.repo:
        parser.error("give --repo PATH (a checkout of github.com/HIPS/autograd) or set AUTOGRAD_REPO")
    examples = os.path.join(args.repo, "examples")
    _stub_modules()
    tmp = tempfile.mkdtemp(prefix="srcad_examples_")
    roots = {v: write_tree(os.path.join(tmp, v), examples, v) for v in ("autograd", "srcad")}
    import io
    import contextlib
    counts = {}
    for name in DRIVERS:
        if args.only and name not in args.only:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                theirs = run_version(roots["autograd"], name, "autograd")
        except Exception as exc:                       # noqa: BLE001
            status, detail = "skipped", f"autograd's version fails here: {type(exc).__name__}: {exc}"
        else:
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    ours = run_version(roots["srcad"], name, "srcad")
            except SrcadError as exc:
                status, detail = "refused", str(exc)
            except Exception as exc:                   # noqa: BLE001
                status = "crash"
                detail = "".join(traceback.format_exception(exc)[-3:]) if args.verbose else \
                    f"{type(exc).__name__}: {exc}"
            else:
                diff = compare(ours, theirs)
                status, detail = ("match", "") if diff is None else ("wrong", diff)
        counts[status] = counts.get(status, 0) + 1
        if not args.verbose:
            detail = detail.strip().split("\n")[0][:150]
        print(f"{name:26} {status:8} {detail}")
    total = sum(counts.values())
    print(f"\n{counts.get('match', 0)} of {total} match autograd to {RTOL:g} relative; "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()) if k != "match"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
