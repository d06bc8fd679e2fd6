"""Reverse and forward rules of ``np.linalg``'s decompositions and of the
functions built on them: ``slogdet``, ``eigh``, ``eigvalsh``, ``eig``,
``eigvals``, ``svd``, ``qr``, ``pinv``, ``matrix_power``, ``lstsq``.

Each works on one matrix and on stacks (``(..., m, n)``).  Those that return
several arrays (``w, v = np.linalg.eigh(a)``) receive a tuple of cotangents,
one per result (zeros for a result that is not used), and return a tuple of
tangents.  The derivatives exist where the decomposition is unique and smooth:
distinct eigenvalues or singular values, full rank (pinv, lstsq), real
eigenvalues (eig); elsewhere the formulas divide by zero (see
``docs/conventions.md``) and unsupported options raise
``UnsupportedArgumentError``.  Formulas: M. Giles, "An extended collection of
matrix derivative results" (2008); J. Townsend, "Differentiating the singular
value decomposition" (2016); the QR rule of PyTorch and JAX.
"""

import numpy as np

from srcad.runtime import zeros_like

from srcad.rules.families import delegated
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.rules._np_helpers import (eig_adjoint, eig_tangent, eigh_adjoint, eigh_tangent,
                                     eigvals_adjoint, eigvals_tangent, eigvalsh_adjoint,
                                     eigvalsh_tangent, lstsq_adjoint, lstsq_tangent,
                                     matrix_power_adjoint, matrix_power_tangent, norm_adjoint,
                                     norm_axes, norm_error, norm_tangent, pinv_adjoint,
                                     pinv_tangent, qr_adjoint, qr_tangent, refuse_pinv_options,
                                     slogdet_tangent, svd_adjoint, svd_tangent)


@adjoint(np.linalg.slogdet)
def slogdet(g, ans, a):
    """d log|det a| / da = a^-T; the sign is piecewise constant."""
    return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.slogdet)
def slogdet_tangent_(a_dot, ans, a):
    return slogdet_tangent(a_dot, a, ans)


@delegated(np.linalg.eigh)
def eigh(g, ans, a, UPLO="L"):
    return eigh_adjoint(g, ans, UPLO)


@delegated(np.linalg.eigvalsh)
def eigvalsh(g, ans, a, UPLO="L"):
    return eigvalsh_adjoint(g, a, UPLO)


@delegated(np.linalg.eig)
def eig(g, ans, a):
    return eig_adjoint(g, a, ans)


@delegated(np.linalg.eigvals)
def eigvals(g, ans, a):
    return eigvals_adjoint(g, a)


@delegated(np.linalg.svd)
def svd(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_adjoint(g, a, full_matrices, compute_uv, hermitian)


@delegated(np.linalg.qr)
def qr(g, ans, a, mode="reduced"):
    return qr_adjoint(g, a, mode)


@delegated(np.linalg.pinv)
def pinv(g, ans, a, rcond=None, hermitian=False, *, rtol=None):
    """For a of full rank (the rank does not change nearby)."""
    return pinv_adjoint(g, a, ans) + refuse_pinv_options(hermitian)


views(np.linalg.matrix_power)   # power 1 returns the array itself


@delegated(np.linalg.matrix_power)
def matrix_power(g, ans, a, n):
    return matrix_power_adjoint(g, a, n)


@adjoint(np.linalg.lstsq)
def lstsq(g, ans, a, b, rcond=None):
    return lstsq_adjoint(g, a, b, ans, 0), lstsq_adjoint(g, a, b, ans, 1)


@tangent(np.linalg.lstsq)
def lstsq_tangent_(a_dot, b_dot, ans, a, b, rcond=None):
    return lstsq_tangent(a_dot, zeros_like(b), a, b, ans), lstsq_tangent(zeros_like(a), b_dot, a, b, ans)


@delegated(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    """Every ord NumPy has (vector: p, inf, -inf, 0; matrix: 'fro', 'nuc', 1, -1,
    2, -2, inf, -inf), along any axis or pair of axes, with keepdims."""
    return norm_adjoint(g, ans, x, ord, axis, keepdims)


nondifferentiable(norm_axes, norm_error)       # so that srcad can differentiate the norm helpers again (hessian)
