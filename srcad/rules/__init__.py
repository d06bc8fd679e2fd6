"""Derivative rule tables, one module per namespace.

Importing ``srcad.rules`` fills the tables:

- :mod:`srcad.rules.registry`  the tables (``ADJOINTS``, ``TANGENTS``,
  ``NONDIFFERENTIABLE``) and the decorators that fill them;
- :mod:`srcad.rules.operators` Python's operators and the arithmetic ufuncs;
- :mod:`srcad.rules.builtins`  the ``math`` module and ``abs``, ``float``,
  ``max``, ``min``;
- :mod:`srcad.rules.numpy`     NumPy functions and ``ndarray`` methods, with
  the conventions at non-differentiable points;
- :mod:`srcad.rules.linalg`    ``np.linalg``;
- :mod:`srcad.rules.helpers`   the runtime helpers generated code calls, so that
  generated code can be differentiated again;
- :mod:`srcad.rules.scipy_special`, :mod:`srcad.rules.scipy_stats`  SciPy, an
  optional dependency: registered only when ``scipy`` imports.
"""

from srcad.rules.registry import (ADJOINTS, NONDIFFERENTIABLE, TANGENTS, VIEWS, adjoint,
                                  is_nondifferentiable, lookup, lookup_tangent, nondifferentiable,
                                  returns_view, tangent, views)
from srcad.rules import operators, builtins, numpy, linalg, containers, helpers  # noqa: E402  (fill the tables)
from srcad.rules import numpy_shapes, numpy_einsum, linalg_decomp  # noqa: E402,F401

try:                                        # SciPy is optional at run time
    import scipy  # noqa: F401
except ImportError:
    pass
else:
    from srcad.rules import scipy_special, scipy_stats  # noqa: F401

__all__ = ["adjoint", "tangent", "nondifferentiable", "lookup", "lookup_tangent", "is_nondifferentiable",
           "views", "returns_view", "ADJOINTS", "TANGENTS", "NONDIFFERENTIABLE", "VIEWS"]
