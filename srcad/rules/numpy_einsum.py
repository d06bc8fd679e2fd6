"""Reverse and forward rules of ``np.einsum`` and of ``np.tensordot``, which is
one contraction too.

Every subscript form NumPy accepts works: explicit and implicit output,
``...`` with broadcasting, repeated letters (diagonals, traces), any number of
operands.  The operands are ``*operands``, so their cotangents form one tuple.
"""

import numpy as np

from srcad.rules.registry import adjoint, tangent, views
from srcad.rules._np_helpers import einsum_adjoint, einsum_tangent, tensordot_adjoint


views(np.einsum)                # "ij->ji" and "ii->i" return views of the operand


@adjoint(np.einsum)
def einsum(g, ans, subscripts, *operands, out=None, optimize=False):
    grads = einsum_adjoint(g, subscripts, operands)
    return grads[0], grads[1]


@tangent(np.einsum)
def einsum_tangent_(subscripts_dot, operands_dot, ans, subscripts, *operands, out=None, optimize=False):
    return (einsum_tangent(subscripts, subscripts_dot, None, operands),
            einsum_tangent(subscripts, None, operands_dot, operands))


@adjoint(np.tensordot)
def tensordot(g, ans, a, b, axes=2):
    return tensordot_adjoint(g, a, b, axes, 0), tensordot_adjoint(g, a, b, axes, 1)


@tangent(np.tensordot)
def tensordot_tangent(a_dot, b_dot, ans, a, b, axes=2):
    return np.tensordot(a_dot, b, axes), np.tensordot(a, b_dot, axes)
