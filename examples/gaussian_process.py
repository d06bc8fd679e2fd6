"""Gaussian-process regression: fit a kernel's hyperparameters by maximising
the log marginal likelihood, as autograd's ``gaussian_process.py`` does.

The parameters are one vector (mean, log noise, log output scale, log
lengthscales) unpacked into a tuple by a helper; the marginal likelihood is
SciPy's ``multivariate_normal.logpdf`` of the data under the kernel matrix.
``srcad.value_and_grad`` hands SciPy's optimiser the value and the gradient
together (``jac=True``); the printed negative log-likelihood falls at every
iteration.

Run:  python examples/gaussian_process.py
"""

import pathlib
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def rbf_covariance(kernel_params, x, xp):
    """Squared-exponential kernel with per-dimension lengthscales."""
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def unpack(params):
    mean = params[0]
    noise = np.exp(params[1]) + 1e-4
    return mean, noise, params[2:]


def negative_log_marginal_likelihood(params, x, y):
    mean, noise, kernel_params = unpack(params)
    cov = rbf_covariance(kernel_params, x, x) + noise * np.eye(len(y))
    return -multivariate_normal.logpdf(y, mean * np.ones(len(y)), cov)


def toy_data(n=20, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.linspace(0, 3, n // 2), np.linspace(6, 8, n // 2)])
    y = (np.cos(x) + noise * rng.standard_normal(n)) / 2.0
    return ((x - 4.0) / 2.0)[:, None], y


def problem(n=12, seed=0):
    """(loss, params, args): what the tests check against finite differences."""
    x, y = toy_data(n, seed=seed)
    params = 0.1 * np.random.default_rng(seed).standard_normal(4)
    return negative_log_marginal_likelihood, params, (x, y)


def main(steps=20, verbose=True):
    """Fit with conjugate gradients; return the loss after every iteration."""
    f, params, (x, y) = problem(20)
    objective = srcad.value_and_grad(f)
    losses = [f(params, x, y)]

    def report(p):
        losses.append(f(p, x, y))
        if verbose:
            print(f"iteration {len(losses) - 1:3d}  negative log-likelihood {losses[-1]:.4f}")

    result = minimize(objective, params, args=(x, y), jac=True, method="CG", callback=report,
                      options={"maxiter": steps})
    if verbose:
        mean, noise, kernel = unpack(result.x)
        print(f"mean {mean:.3f}, noise {noise:.4f}, output scale {np.exp(kernel[0]):.3f}, "
              f"lengthscale {np.exp(kernel[1]):.3f}")
    return losses


if __name__ == "__main__":
    main()
