"""srcad: source-transformation automatic differentiation for Python and NumPy.

``srcad.grad(f)`` reads ``f``'s source, builds its computational graph and
writes the adjoint as plain Python: print ``srcad.grad(f).source`` to read it.
"""

from srcad.api import check_grad, check_rule, grad, graph, value_and_grad, vjp
from srcad.api import hessian, hessp, hvp, jacobian, jvp
from srcad.errors import (GradientCheckError, NonDifferentiableError, NonFiniteGradientError,
                          NonScalarOutputError, RuleError, SourceUnavailableError,
                          UnsupportedInputError,
                          SrcadError, UnknownPrimitiveError, UnsupportedSyntaxError, WrtError)
from srcad.rules.registry import adjoint, nondifferentiable, tangent
from srcad.runtime import stop_gradient

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "check_grad", "graph", "adjoint", "nondifferentiable",
    "stop_gradient", "check_rule", "jvp", "jacobian", "hessian", "hvp", "hessp", "tangent",
    "SrcadError", "UnsupportedSyntaxError", "UnknownPrimitiveError", "NonDifferentiableError",
    "SourceUnavailableError", "WrtError", "NonScalarOutputError", "UnsupportedInputError", "RuleError", "GradientCheckError",
    "NonFiniteGradientError",
]
