"""Newton's method on the n-dimensional Rosenbrock function with srcad.grad and srcad.hessian.

The gradient is srcad's reverse-mode code; the Hessian is forward mode applied
to that generated gradient code (forward over reverse), so no derivative is
written by hand.  Newton's method then converges to the minimum (1, 1, ...)
in a handful of steps.

Run:  python examples/newton.py
"""

import pathlib
import sys

import numpy as np

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def rosenbrock(x):
    """sum over i of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; minimum 0 at (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


gradient = srcad.grad(rosenbrock)
hessian = srcad.hessian(rosenbrock)


def newton(x, steps=50, tol=1e-10):
    """Damped Newton: a full step when it lowers f, else halve it (Rosenbrock's
    valley makes an undamped step overshoot far from the minimum)."""
    for k in range(steps):
        g = gradient(x)
        print(f"  step {k:2d}: f = {rosenbrock(x):.3e}   |grad| = {np.linalg.norm(g):.3e}   "
              f"x = {np.array2string(x, precision=6, suppress_small=True)}")
        if np.linalg.norm(g) < tol:
            break
        step = np.linalg.solve(hessian(x), g)
        t = 1.0
        while rosenbrock(x - t * step) > rosenbrock(x) and t > 1e-8:
            t /= 2.0
        x = x - t * step
    return x


if __name__ == "__main__":
    print("The Hessian is the tangent of this generated gradient code:\n")
    print(gradient.source)
    print("and the Hessian-vector product code srcad generates from it begins:\n")
    print("\n".join(srcad.jvp(gradient).source.splitlines()[:12]) + "\n    ...\n")

    # (-1.2, 1) is the classic start in 2-D; in 4 to 7 dimensions Rosenbrock also has a
    # local minimum near (-1, 1, ..., 1), so the 5-D run starts at the origin.
    for start in (np.array([-1.2, 1.0]), np.zeros(5)):
        print(f"Newton's method from {start}:")
        x = newton(start)
        assert np.allclose(x, 1.0, atol=1e-8), x
        print(f"converged to {x}\n")
