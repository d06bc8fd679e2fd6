"""The pipeline: every stage of a transformation, in order, stated once.

Every entry point (``grad``/``value_and_grad``/``vjp``, ``jvp`` and its
Jacobians and Hessians, the split and tangent functions made for called
functions, ``srcad.graph`` and ``check_grad``) goes through the functions
below, so the order of the stages is written here and nowhere else::

    front end   parse.parse_function   source -> gast tree, names resolved
                normalize.fence        unsupported statements refused by name
                generators.materialize (a callee that yields returns a list)
                namespaces.resolve_namespaces   xp = np / array_namespace(x): NumPy
                calls.rewrite_function_values   map, sorted(key=), partial: calls
                lift.lift              nested defs / named lambdas -> callees
                structure.structure    single exit; jumps only at branch ends
                normalize.Normalizer   A-normal form: one primitive per statement
    graph       graph.GraphBuilder     nodes, branches, loops, jumps
                aux.split_aux          (has_aux) the returned pair split first
                graph.analyze          rules, activity (varied and useful)
                graph.infer_shape_classes   where unbroadcast is not needed
                passes.may_raise.mark_may_raise   dead code that may raise is kept
    generator   reverse.ReverseGenerator    grad, value_and_grad, vjp, split
                forward.ForwardGenerator    jvp (and so Jacobians, Hessians)
    clean-up    passes.PASSES, in order, on every generated function's body
    floats      passes.floats.plan     (grad, value_and_grad, vjp) a copy for
                                       Python floats, called from the entry and
                                       written at the first call on floats
    codegen     codegen.render, codegen.compile_function

``api.py`` adds what is not a stage: caching, the entry guard of a derivative
the user keeps (``caches.py``), ``check_finite`` (``debug.py``) and the
attributes of the function handed back.
"""

from types import CellType

from srcad import codegen, passes
from srcad.passes.may_raise import mark_may_raise
from srcad.calls import rewrite_function_values
from srcad.forward import ForwardGenerator
from srcad.graph import SCALAR, GraphBuilder, Node, analyze, infer_shape_classes
from srcad.generators import is_generator, materialize
from srcad.lift import lift
from srcad.namespaces import resolve_namespaces
from srcad.normalize import Normalizer, fence, name_allocator
from srcad.parse import parse_function
from srcad.reverse import ReverseGenerator
from srcad.structure import structure
from srcad.trees import parameters

#: The clean-up passes are :data:`srcad.passes.PASSES`, run in that order on
#: the body of every generated reverse-mode function; forward-mode code only
#: needs dead-code elimination.  A new pass goes into that list.


# -- front end ----------------------------------------------------------------
def parse(func):
    """Stage 1: ``func``'s source as a gast tree with its namespace (parse.py)."""
    return parse_function(func)


def front_end(parsed, callee=False):
    """Stages 2-5 on a parsed function: the fence, lambda lifting, structuring
    and A-normal form.  Returns the normalized gast.FunctionDef; ``callee``
    when it is called from a transformed function (``*args`` allowed)."""
    fence(parsed)                          # before structuring moves statements
    if callee and is_generator(parsed.node):   # sum(terms(x)): returns the list of its values
        materialize(parsed, name_allocator(parsed))
    resolve_namespaces(parsed)             # xp = array_namespace(x): xp is NumPy
    rewrite_function_values(parsed)        # map(f, xs), sorted(key=f), partial: calls
    lift(parsed)                           # nested functions become callees
    names = name_allocator(parsed)         # shared: structure's names stay taken
    structure(parsed.node, names)
    return Normalizer(parsed, names, callee).run()


def parameter_names(func):
    """``func``'s parameter names as the transforms count them (``wrt=0`` is
    the first), read from its parsed signature without normalizing the body."""
    return [a.id for a in parameters(parse(func).node.args)]


# -- graph --------------------------------------------------------------------
def build(parsed, anf, wrt, wrt_is_tuple=False, prepare=None, forward=False,
          scalar_output=False):
    """The analyzed graph of the normalized ``anf`` w.r.t. the parameter names
    ``wrt``.  ``prepare(graph)`` runs before the analysis (``split_aux``,
    ``mark_stacks``); ``scalar_output`` (grad) lets the shape classes use the
    fact that the output is a scalar."""
    graph = GraphBuilder(parsed, anf).build(list(wrt), wrt_is_tuple)
    if prepare is not None:
        prepare(graph)
    analyze(graph, forward=forward)
    if scalar_output:
        assume_scalar_output(graph)
    return graph


def assume_scalar_output(graph):
    """For ``grad``: record whether the output is provably a scalar (then no
    ``check_scalar``), and let the shape classes use that it is one."""
    out = graph.output
    graph.scalar_output_proven = (getattr(out, "id", None) is not None
                                  and graph.shape_class.get(out.id) == SCALAR)
    infer_shape_classes(graph, scalar_output=True)


def graph_of(func, wrt, wrt_is_tuple=False, callee=False, **options):
    """``(parsed, analyzed graph)`` of ``func``: the front end and the graph
    stages in one (``options`` as for :func:`build`)."""
    parsed = parse(func)
    anf = front_end(parsed, callee)
    return parsed, build(parsed, anf, wrt, wrt_is_tuple, **options)


# -- generators and clean-up -------------------------------------------------------
def clean_up(*fdefs, gen=None, forward=False):
    """Run the clean-up passes on each generated function, in place: all of
    :data:`srcad.passes.PASSES` on reverse code (those that add code with the
    reverse generator ``gen``'s names), dead code only on forward code."""
    for fdef in fdefs:
        if forward:
            fdef.body = passes.dead_code.eliminate_dead_code(fdef.body)
            continue
        fdef.body = passes.clean(fdef.body, gen._pass_context() if gen is not None else None)
    return fdefs


def reverse(graph, mode, splitter):
    """Reverse mode on an analyzed graph: ``(fdef, seed name, generator)``
    for ``grad``, ``value_and_grad`` or ``vjp``, cleaned up."""
    mark_may_raise(graph)
    gen = ReverseGenerator(graph, mode, splitter)
    fdef, seed = gen.generate()
    clean_up(fdef, gen=gen)
    return fdef, seed, gen


def split(graph, splitter, own):
    """The forward and reverse halves of a called function:
    ``(forward fdef, reverse fdef, generator)``, cleaned up."""
    mark_may_raise(graph)
    gen = ReverseGenerator(graph, "split", splitter, own)
    fdef, rdef = gen.generate_split()
    clean_up(fdef, rdef, gen=gen)
    made_by = {n.target: n.primitive for n in graph.body if isinstance(n, Node) and n.target}
    for run in passes.PAIR_PASSES:
        run(fdef, rdef, gen._pass_context(), made_by)
    return fdef, rdef, gen


def tangent(graph, callee):
    """Forward mode on an analyzed graph: ``(fdef, generator)``, cleaned up."""
    mark_may_raise(graph)
    gen = ForwardGenerator(graph, callee)
    fdef = gen.generate()
    clean_up(fdef, forward=True)
    return fdef, gen


def floats(fdef, parsed, gen, label, **render_options):
    """The copy of the reverse function ``fdef`` for Python-float arguments
    (:mod:`srcad.passes.floats`), planned: the call of it put first in
    ``fdef``, and ``(name, cell, write)``: the copy's name in ``fdef``, the
    closure cell ``fdef`` reads it from and ``write()``, which gives the
    copy's ``(function, source)``; None where there is no copy.  The
    caller writes the copy at the first call on floats."""
    refs = gen.refs             # (not gen: until the copy is written only what it needs stays alive)
    ref = refs.ref
    planned = passes.floats.plan(fdef, _resolver(parsed.namespace, refs), ref)
    if planned is None:
        return None
    params, write = planned
    cell = CellType()
    chosen = ref(cell, fdef.name + "_floats")
    passes.floats.dispatch(fdef, chosen, params, ref)

    def emit_copy():
        return emit(write(), parsed, refs.cells, label, **render_options)
    return chosen, cell, emit_copy


def arrays(fdef, parsed, gen, label, seed, **render_options):
    """The copy of the reverse function ``fdef`` for float64 arrays of the
    shapes of a call (:mod:`srcad.passes.arrays`), planned: the call of it
    put in ``fdef`` (after the float copy's), and ``(names, cells, params,
    emit_copy)``: the names in ``fdef`` and the closure cells of the current
    copy, of its shapes and of the function that writes (or finds) the copy
    for other shapes, the parameters the guard tests and ``emit_copy(kinds)``,
    which gives a copy's ``(function, source)`` for the parameters' kinds;
    None where there is no copy.
    ``seed``: grad's seed, a Python float (None: every parameter an array)."""
    refs = gen.refs
    ref = refs.ref
    planned = passes.arrays.plan(fdef, seed, _resolver(parsed.namespace, refs), ref)
    if planned is None:
        return None
    params, write = planned
    cells = CellType(), CellType(None), CellType()          # the copy, its shapes, the writer
    names = [ref(c, fdef.name + suffix) for c, suffix in zip(cells, ("_arrays", "_shapes", "_other_shapes"))]
    passes.arrays.dispatch(fdef, *names, params, seed, ref)

    def emit_copy(kinds):
        return emit(write(kinds), parsed, refs.cells, label, **render_options)
    return names, cells, params, emit_copy


def _resolver(namespace, refs):
    """What a name of generated code refers to: a helper's cell, else the
    user's namespace (unrecorded: the generator chose these names)."""
    return passes.floats.resolver(
        lambda n: refs.cells[n] if n in refs.cells else namespace.lookup(n, None, record_missing=False))


# -- codegen ------------------------------------------------------------------------
def emit(fdef, parsed, helpers, label, defaults=None, **render_options):
    """The last stage: ``(function, source)`` for the generated ``fdef`` of
    the user's function ``parsed.func``, compiled over its globals and
    closure cells plus ``helpers`` (name -> object the code reads).
    ``label`` names the transform in the code's origin (``grad of f (file:line)``);
    ``render_options`` go to :func:`srcad.codegen.render`."""
    func = parsed.func
    source, annotated = codegen.render(fdef, parsed.source, **render_options)
    fn = codegen.compile_function(
        source, fdef.name, user_globals=func.__globals__, user_cells=parsed.namespace.cells,
        helpers=helpers, defaults=defaults, kwdefaults=func.__kwdefaults__, annotated=annotated,
        origin=f"{label} of {func.__qualname__} ({parsed.source.filename}:{func.__code__.co_firstlineno})")
    return fn, source
