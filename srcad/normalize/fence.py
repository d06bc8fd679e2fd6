"""The language fence: what srcad refuses, by name and with a hint, before
anything is rewritten (and again where the normalizer meets it)."""

import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.trees import statements


#: statements srcad refuses, with the hint shown to the user.
UNSUPPORTED_STATEMENTS = {
    gast.Try: ("a try statement", "move the try/except outside the differentiated function"),
    gast.With: ("a with statement", "move the with block outside the differentiated function"),
    gast.AsyncWith: ("an async with statement", "differentiate synchronous code only"),
    gast.AsyncFor: ("an async for loop", "differentiate synchronous code only"),
    gast.AsyncFunctionDef: ("an async function", "differentiate synchronous code only"),
    gast.Global: ("a global statement", "pass the value in as an argument and return the result"),
    gast.Nonlocal: ("a nonlocal statement", "pass the value in as an argument and return the result"),
    gast.ClassDef: ("a class definition", "define the class outside the differentiated function"),
    gast.Delete: ("a del statement", "let the variable go out of scope instead of deleting it"),
    gast.Import: ("an import statement", "import at module level"),
    gast.ImportFrom: ("an import statement", "import at module level"),
}
if hasattr(gast, "Match"):
    UNSUPPORTED_STATEMENTS[gast.Match] = ("a match statement", "rewrite it with if/elif/else")
if hasattr(gast, "TryStar"):
    UNSUPPORTED_STATEMENTS[gast.TryStar] = ("a try statement", "move the try/except outside the differentiated function")

UNSUPPORTED_EXPRESSIONS = {
    gast.Yield: ("yield", "srcad differentiates functions, not generators"),
    gast.YieldFrom: ("yield from", "srcad differentiates functions, not generators"),
    gast.Await: ("await", "differentiate synchronous code only"),
    gast.Lambda: ("a lambda expression here", "bind the lambda to a name at the top level of the "
                                              "function's body (g = lambda t: ...) and call it"),
    gast.SetComp: ("a set comprehension", "write the loop out with a for statement"),
    gast.NamedExpr: ("an assignment expression (:=)", "assign with a separate statement"),
    gast.Starred: ("a starred expression", "pass the elements explicitly"),
    gast.Set: ("a set display", "use a tuple or a list"),
    gast.JoinedStr: ("an f-string", "build strings outside the differentiated function"),
}


def fence(parsed):
    """Refuse unsupported statements anywhere in the function, before the
    structuring pass moves them (the pipeline's first stage after parsing)."""
    fdef = parsed.node
    for node in statements(fdef):
        if node is not fdef:
            refuse(parsed.source, UNSUPPORTED_STATEMENTS, node)


def refuse(source, unsupported, node):
    """A located error for a statement or expression srcad refuses
    (``unsupported`` maps its type to what it is and a hint)."""
    if type(node) in unsupported:
        what, hint = unsupported[type(node)]
        raise source.error(UnsupportedSyntaxError, f"srcad cannot differentiate {what}", node, hint=hint)


def check_signature(parsed, callee=False):
    """Refuse the parameters srcad cannot bind.

    The function the user transforms is handed back with its own parameters
    plus trailing seeds or tangents, which cannot follow ``*args``; so it
    takes named parameters only.  A function it calls (``callee``) may take
    ``*args``: the caller binds those arguments to one tuple.  ``**kwargs``
    would be a dict, which srcad does not follow yet.
    """
    args = parsed.node.args
    extras = [(args.kwarg, "**kwargs")] if callee else [(args.vararg, "*args"), (args.kwarg, "**kwargs")]
    for extra, what in extras:
        if extra is not None:
            raise parsed.source.error(
                UnsupportedSyntaxError,
                f"cannot differentiate a function with {what} parameters", extra,
                hint="give the function named parameters; a helper the differentiated "
                     "function calls may take *args")


def _refused_target(target):
    """(message, hint) for an assignment target srcad does not differentiate."""
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Subscript):
        # L[0][0] = v, d['w'][0] = v, a[0][1] = v: a write through an element
        inner = target.value
        while isinstance(inner, gast.Subscript):
            inner = inner.value
        base = inner.id if isinstance(inner, gast.Name) else "the container"
        return (f"srcad does not differentiate a write into an element of {base!r} "
                f"(`{base}[...][...] = ...`): the element is shared with {base!r} and with "
                "every other name that holds it",
                f"for an array, write one subscript ({base}[i, j] = v); for an array in a list "
                f"or dict, update a copy and store it back (item = {base}[k].copy(); "
                f"item[j] = v; {base}[k] = item)")
    if isinstance(target, gast.Subscript):
        return ("srcad does not differentiate a write into a value that is not a variable of "
                "this function (a global, an attribute, a call's result)",
                "copy it into a variable of the function first (a = g.copy()) and write into that")
    if isinstance(target, gast.Attribute):
        return ("srcad does not differentiate an assignment to an attribute: it follows values "
                "in the function's own variables only",
                "keep the value in a variable of the function (w = ...) and return it")
    return "srcad does not differentiate this assignment", "assign to a plain name"
