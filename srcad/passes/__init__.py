"""Clean-up passes on generated code, one per module, in one ordered list.

The generators (``reverse/``, ``forward.py``) write correct but literal
code: one statement per rule output, seeds multiplied in, copies such as
``dx = dp``.  The passes here make it short without changing what it
computes.  Two kinds:

* **term passes** rewrite one inlined rule term while it is generated, where
  the graph's facts (shape classes, the callee's defaults) are at hand:
  :mod:`~srcad.passes.fold` (constant arithmetic), :mod:`~srcad.passes.defaults`
  (keyword arguments equal to the callee's default), :mod:`~srcad.passes.unbroadcast`
  (``unbroadcast``/``broadcast_like`` where shapes provably agree).
  :data:`TERM_PASSES` names them in the order the generators apply them.
* **body passes** rewrite a whole generated function body (``gast``
  statements and :class:`srcad.reverse.Comment` lines) and run in the order
  of :data:`PASSES` (:func:`clean` runs them); :mod:`~srcad.passes.may_raise`
  marks, before generation, what dead-code elimination must keep.

* one **pair pass**, :mod:`~srcad.passes.split_saves`, runs on a called
  function's forward and reverse halves together, after their clean-up
  (``pipeline.split``): it trims what the one hands the other.

Each module's docstring shows its before/after as a doctest (run by
``tests/test_doctests.py``), with :func:`demo`.
"""

import gast

from srcad.passes import (accumulate, arrays, copies, dead_code, defaults, fanout, floats, fold, last_adjoint, negation,
                          owned, repeat, shapes, split_saves, unbroadcast)

#: rewrites of one inlined term, in the order the generators apply them
TERM_PASSES = (fold.fold_term, defaults.DropDefaults, unbroadcast.drop_unbroadcast,
               unbroadcast.drop_broadcasts)

#: rewrites of a whole generated body, in order: fold constants (``x **
#: np.where(2, 2 - 1, 1.0)`` is ``x``), propagate copies (``dx = dp``), fold
#: negations into subtractions, read a repeated fan-out term from the first
#: (and make the two cotangents of ``np.dot(x, x)`` in one helper);
#: then let broadcasting spread the cotangents of reductions (``repeat_to``),
#: (propagating the copies that leaves); hoist weight accumulations out of
#: reversed loops, save only the shape of what the reverse sweep reads for its
#: shape, and drop what no one reads; last, let reversed loops own the list
#: adjoints they only accumulate into, and skip, in a reversed loop's last
#: iteration, the adjoints nothing after it reads
PASSES = (fold.fold_body, copies.propagate_copies, negation.fold_negations, fanout.merge_fan_out,
          fanout.merge_self_products,
          repeat.broadcast_repeats, accumulate.hoist_accumulations, shapes.push_shapes,
          dead_code.eliminate_dead_code, owned.own_accumulators, last_adjoint.skip_dead_last_adjoints)

#: passes on a called function's forward and reverse halves together, after
#: their clean-up: ``run(fdef, rdef, context, made_by)``
PAIR_PASSES = (split_saves.trim_saves,)

#: the passes that name helpers or make new names: they take a :class:`Context`
_NEED_CONTEXT = {fanout.merge_self_products, repeat.broadcast_repeats, accumulate.hoist_accumulations, shapes.push_shapes,
                 owned.own_accumulators}


class Context:
    """What a pass that adds code needs from its generator: the name generated
    code uses for a helper object (``name_of``; ``ref`` makes one), and fresh
    names.  The default names everything after itself (for the doctests)."""

    def __init__(self, name_of=None, ref=None, fresh=None, shape_class=None):
        self.shape_class = shape_class or {}          # the graph's, for the forward values
        self.name_of = name_of or (lambda obj: getattr(obj, "__name__", None))
        self.ref = ref or (lambda obj, wanted: wanted)
        self.fresh = fresh or (lambda base: base)


def clean(body, context=None):
    """``body`` after every pass of :data:`PASSES`, in order.  Without a
    ``context`` the passes that add code do nothing."""
    for run in PASSES:
        body = run(body, context) if run in _NEED_CONTEXT else run(body)
    return body


def demo(run, source):
    """Print ``source`` (statements) after the pass ``run``: the doctests' helper."""
    body = gast.parse(source).body
    _print(run(body))


def demo_pair(run, forward, reverse):
    """Print a split callee's two halves (function definitions) after the pair
    pass ``run`` (with the default :class:`Context`)."""
    from srcad import codegen                       # (codegen imports the passes)
    fdef, rdef = gast.parse(forward).body[0], gast.parse(reverse).body[0]
    print("\n\n".join(codegen.to_source(d).strip() for d in run(fdef, rdef, Context())))


def _print(body):
    module = gast.Module(body=[s for s in body if isinstance(s, gast.AST)], type_ignores=[])
    for node in gast.walk(module):                  # statements a pass made have no line
        if "lineno" in getattr(node, "_attributes", ()) and not hasattr(node, "lineno"):
            node.lineno = node.end_lineno = 1
            node.col_offset = node.end_col_offset = 0
    print(gast.unparse(module).strip())
