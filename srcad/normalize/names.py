"""Names for the normalizer's new variables, and the small tree helpers its
parts share."""

import builtins
import copy
import keyword

import gast

from srcad.trees import name_nodes, parameters, walk


#: binary and unary operator names, used for temporaries and by the graph.
OPERATOR_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow",
    gast.MatMult: "matmul", gast.LShift: "lshift", gast.RShift: "rshift",
    gast.BitOr: "or", gast.BitXor: "xor", gast.BitAnd: "and",
    gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert",
    gast.Eq: "eq", gast.NotEq: "ne", gast.Lt: "lt", gast.LtE: "le",
    gast.Gt: "gt", gast.GtE: "ge", gast.Is: "is", gast.IsNot: "isnot",
    gast.In: "in", gast.NotIn: "notin",
}

_RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins))


class NameAllocator:
    """Hands out readable names that clash with nothing the function uses."""

    def __init__(self, taken):
        self.taken = set(taken) | _RESERVED
        self._next = {}             # base -> the suffix to try first (no rescans)

    def fresh(self, base):
        """``base``, or ``base_2``, ``base_3``, ... : the first that is free.

        The suffix to try next is remembered per base, so handing out the
        k-th ``sin_x`` costs O(1), not O(k): transformation time stays linear
        in the function's length.

        >>> names = NameAllocator({"x", "x_2"})
        >>> [names.fresh("x") for _ in range(3)]
        ['x_3', 'x_4', 'x_5']
        """
        base = base.strip("_") or "t"
        if not base.isidentifier() or keyword.iskeyword(base):
            base = "t_" + base
        n = self._next.get(base, 1)
        name = base if n == 1 else f"{base}_{n}"
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self._next[base] = n + 1
        self.taken.add(name)
        return name

    def reserve(self, name):
        self.taken.add(name)

    def snapshot(self):
        """The allocator's state, for :meth:`restore` after a discarded trial."""
        return set(self.taken), dict(self._next)

    def restore(self, state):
        taken, following = state
        self.taken, self._next = set(taken), dict(following)


def assigned_names(fdef):
    """Names the function binds: parameters and assignment targets."""
    return {n.id for n in name_nodes(fdef) if type(n.ctx) in (gast.Store, gast.Param)}


def all_names(fdef):
    return {n.id for n in name_nodes(fdef)}


def param_names(fdef):
    return [a.id for a in parameters(fdef.args)]


def name_allocator(parsed):
    """The allocator of new names for one transformation: it avoids every
    name the (lifted) function uses and every global or free name it reads."""
    return NameAllocator(all_names(parsed.node) | _free_names(parsed))


def _free_names(parsed):
    code = parsed.func.__code__
    return set(code.co_names) | set(code.co_freevars)


def _identifier_of(atom):
    """A base for names made from ``atom``: its name, else ``seq``."""
    return atom.id if isinstance(atom, gast.Name) else "seq"


def _first_local(expr, local_names):
    for node in walk(expr):
        if isinstance(node, gast.Name) and node.id in local_names:
            return node.id
    return ""


def _is_name(node, id_):
    return isinstance(node, gast.Name) and node.id == id_


def _text(node):
    """The source text of a gast expression (for annotations and messages)."""
    import ast
    return ast.unparse(gast.gast_to_ast(node))


def _dict_view(it, local_names):
    """``'items'``, ``'values'`` or ``'keys'`` when ``it`` is ``d.items()`` and
    the like on a local ``d``, else None."""
    if isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) \
            and it.func.attr in ("items", "values", "keys") and not it.args and not it.keywords \
            and isinstance(it.func.value, gast.Name) and it.func.value.id in local_names:
        return it.func.attr
    return None


class _Renamer(gast.NodeTransformer):
    """Renames variables (the targets of a comprehension) in a copy of a tree."""

    def __init__(self, renames):
        self.renames = renames

    def copy(self, node):
        return self.visit(copy.deepcopy(node))

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node
