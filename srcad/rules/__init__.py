"""Derivative rule tables, one module per namespace.

Importing ``srcad.rules`` fills the tables:

- :mod:`srcad.rules.registry`  the tables (``ADJOINTS``, ``TANGENTS``,
  ``NONDIFFERENTIABLE``) and the decorators that fill them;
- :mod:`srcad.rules.families`  rules declared once: forward rules derived from
  reverse ones, tables of one-line derivatives, families written from one text;
- :mod:`srcad.rules.operators` Python's operators and the arithmetic ufuncs;
- :mod:`srcad.rules.builtins`  the ``math`` module and ``abs``, ``float``,
  ``max``, ``min``;
- :mod:`srcad.rules.numpy`     NumPy functions and ``ndarray`` methods, with
  the conventions at non-differentiable points;
- :mod:`srcad.rules.linalg`    ``np.linalg``;
- :mod:`srcad.rules.helpers`   the runtime helpers generated code calls, so that
  generated code can be differentiated again;
- :mod:`srcad.rules.scipy_special`, :mod:`srcad.rules.scipy_stats`, :mod:`srcad.rules.scipy_integrate`,
  :mod:`srcad.rules.scipy_other` (signal, linalg)  SciPy, an
  optional dependency: registered only when ``scipy`` imports.
"""

from srcad.rules import registry  # noqa: E402
from srcad.rules.registry import (ADJOINTS, NONDIFFERENTIABLE, TANGENTS, VIEWS, adjoint,
                                  is_nondifferentiable, lookup, lookup_tangent, nondifferentiable,
                                  returns_view, tangent, views)
from srcad.rules import operators, builtins, numpy, linalg, containers, helpers  # noqa: E402  (fill the tables)
from srcad.rules import numpy_shapes, numpy_einsum, linalg_decomp  # noqa: E402,F401



def _load_scipy_rules():
    import importlib.util
    if importlib.util.find_spec("scipy.special") is not None:
        from srcad.rules import scipy_special, scipy_stats, scipy_other, scipy_integrate  # noqa: F401
        try:                          # xp_promote: a private helper of recent SciPy releases
            from srcad.rules import scipy_array_api  # noqa: F401
        except ImportError:
            pass


# SciPy is optional, and slow to import: its rules load at the first look-up
# made once the user's code has imported it (registry.load_with)
registry.load_with("scipy", _load_scipy_rules)

__all__ = ["adjoint", "tangent", "nondifferentiable", "lookup", "lookup_tangent", "is_nondifferentiable",
           "views", "returns_view", "ADJOINTS", "TANGENTS", "NONDIFFERENTIABLE", "VIEWS"]
