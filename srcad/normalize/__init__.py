"""Stage 2, normalize: A-normal form, one primitive per statement.

Before::

    def f(x, W, b):
        h = np.tanh(x @ W + b)
        h += 1.0
        return np.sum(h ** 2)

After::

    def f(x, W, b):
        matmul_x = x @ W
        add_b = matmul_x + b
        h = np.tanh(add_b)
        h_1 = h + 1.0
        pow_h = h_1 ** 2
        out = np.sum(pow_h)
        return out

Every statement applies one primitive to *atoms* (names, constants, and
static expressions such as ``np.pi`` that read no local variable and call
nothing).  Augmented assignments are expanded; a variable assigned again in
straight-line code gets a new version name (``h_1``) so that no value the
reverse sweep needs is overwritten.  Variables assigned inside a branch or a
loop keep their name: the reverse generator saves what they overwrite.
Temporaries are named after the operation and the first user variable the
expression reads (``add_b``: ``matmul_x`` is a temporary, not the user's).
Each new statement keeps the location of the user statement it comes from,
so the reverse sweep can quote that line.

Nested functions are first lifted out of the body into callees of their own
(srcad/lift.py), so the normalizer never sees a ``def`` or a named lambda.

This is also the language fence: any construct not handled here is refused by
name, with its location, instead of being passed on half-understood.

The package, one part per seam (the :class:`Normalizer` is their sum):

* :mod:`~srcad.normalize.core`: statements, assignments, versioned names,
  atoms and calls; the class that mixes in the parts below;
* :mod:`~srcad.normalize.loops`: loop lowering (``for`` over ranges,
  sequences, ``zip``/``enumerate``, dict views; ``while``);
* :mod:`~srcad.normalize.sugar`: conditional expressions, ``and``/``or``,
  list and dict comprehensions;
* :mod:`~srcad.normalize.containers`: tuple, list and dict displays,
  ``dict(...)`` calls, spreads;
* :mod:`~srcad.normalize.names`: the allocator of new names and the tree
  helpers the parts share;
* :mod:`~srcad.normalize.fence`: what is refused, by name, with a hint.
"""

from srcad.normalize.core import Normalizer, normalize
from srcad.normalize.fence import UNSUPPORTED_EXPRESSIONS, UNSUPPORTED_STATEMENTS, check_signature, fence
from srcad.normalize.names import OPERATOR_NAMES, NameAllocator, all_names, assigned_names, name_allocator, \
    param_names

__all__ = ["Normalizer", "normalize", "fence", "check_signature", "UNSUPPORTED_STATEMENTS",
           "UNSUPPORTED_EXPRESSIONS", "OPERATOR_NAMES", "NameAllocator", "name_allocator", "all_names",
           "assigned_names", "param_names"]
