"""Black-box variational inference with the reparameterisation trick, as
autograd's ``black_box_svi.py``.

A diagonal Gaussian (mean and log standard deviation, packed in one vector)
approximates an unnormalised two-dimensional posterior (Neal's funnel, as in
the original).  The objective is a Monte Carlo estimate of the negative
evidence lower bound: samples ``mean + exp(log_std) * noise`` go through the
log-density, built from SciPy's ``norm.logpdf``.  The noise is drawn outside
the function, fresh at every step; the printed bound rises as Adam fits the
approximation.

Run:  python examples/black_box_svi.py
"""

import pathlib
import sys

import numpy as np
from scipy.stats import norm

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad

D = 2


def log_density(x):
    """Neal's funnel: log sigma ~ N(0, 1.35), mu ~ N(0, sigma)."""
    mu, log_sigma = x[:, 0], x[:, 1]
    return norm.logpdf(log_sigma, 0, 1.35) + norm.logpdf(mu, 0, np.exp(log_sigma))


def unpack(params):
    return params[:D], params[D:]


def gaussian_entropy(log_std):
    return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)


def negative_elbo(params, noise):
    mean, log_std = unpack(params)
    samples = noise * np.exp(log_std) + mean
    return -(gaussian_entropy(log_std) + np.mean(log_density(samples)))


def problem(samples=20, seed=0):
    """(loss, params, args): what the tests check against finite differences."""
    rng = np.random.default_rng(seed)
    return negative_elbo, np.array([-1.0, -1.0, -2.0, -2.0]), (rng.standard_normal((samples, D)),)


def main(steps=200, samples=500, lr=0.1, verbose=True, seed=0):
    """Adam on the stochastic objective; return the bound's estimate per step."""
    rng = np.random.default_rng(seed)
    gradient = srcad.grad(negative_elbo)
    params = np.array([-1.0, -1.0, -5.0, -5.0])
    m, v = np.zeros(2 * D), np.zeros(2 * D)
    bounds = []
    for step in range(1, steps + 1):
        noise = rng.standard_normal((samples, D))
        bounds.append(-negative_elbo(params, noise))
        g = gradient(params, noise)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        params = params - lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        if verbose and (step == 1 or step % 25 == 0):
            print(f"step {step:4d}  lower bound {bounds[-1]:.4f}")
    return bounds


if __name__ == "__main__":
    main()
