"""Derivative rule tables, one module per namespace.

Importing ``srcad.rules`` fills the tables:

- :mod:`srcad.rules.registry`  the tables (``ADJOINTS``, ``TANGENTS``,
  ``NONDIFFERENTIABLE``) and the decorators that fill them;
- :mod:`srcad.rules.operators` Python's operators and the arithmetic ufuncs;
- :mod:`srcad.rules.builtins`  the ``math`` module and ``abs``, ``float``,
  ``max``, ``min``;
- :mod:`srcad.rules.numpy`     NumPy functions and ``ndarray`` methods, with
  the conventions at non-differentiable points;
- :mod:`srcad.rules.linalg`    ``np.linalg``.
"""

from srcad.rules.registry import (ADJOINTS, NONDIFFERENTIABLE, TANGENTS, adjoint,
                                  is_nondifferentiable, lookup, nondifferentiable, tangent)
from srcad.rules import operators, builtins, numpy, linalg, containers  # noqa: E402  (fill the tables)

__all__ = ["adjoint", "tangent", "nondifferentiable", "lookup", "is_nondifferentiable",
           "ADJOINTS", "TANGENTS", "NONDIFFERENTIABLE"]
