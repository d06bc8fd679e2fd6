"""Stage 6, codegen: gast tree -> source text -> a real Python function.

The tree is printed with the standard library's ``ast.unparse`` (see
docs/architecture.md for why not astunparse), comments are put in, and the
text is compiled inside a small factory function whose parameters are the
names the generated code needs from outside: the user's closure variables
(bound to the user's own cells, so they stay live) and srcad's helpers.  The
result is an ordinary function whose globals are the user's module globals,
so reading a global costs what it costs in the user's code and sees its
current value.  The source is registered with ``linecache`` so tracebacks,
``inspect.getsource`` and debuggers show the generated lines.
"""

import ast
import itertools
import linecache
import types

import gast

_counter = itertools.count(1)


def to_source(fdef):
    """The source text of a generated gast FunctionDef, with its comments."""
    comments = []

    def lower(stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.AST):
                for field in ("body", "orelse"):
                    if isinstance(getattr(stmt, field, None), list):
                        setattr(stmt, field, lower(getattr(stmt, field)))
                if isinstance(stmt, (gast.If, gast.For, gast.While)) and not stmt.body:
                    stmt.body = [gast.Pass()]
                out.append(stmt)
            else:
                comments.append(stmt.text)
                marker = gast.Expr(value=gast.Name(id=f"srcad_comment_{len(comments) - 1}",
                                                   ctx=gast.Load(), annotation=None,
                                                   type_comment=None))
                out.append(marker)
        return out

    tree = fdef                         # generated for this call only: lowered in place
    tree.body = lower(tree.body)
    module = gast.Module(body=[tree], type_ignores=[])
    text = ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(module)))
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("srcad_comment_"):
            index = int(stripped[len("srcad_comment_"):])
            indent = line[:len(line) - len(line.lstrip())]
            lines.append(f"{indent}# {comments[index]}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def compile_function(source, name, *, user_globals, user_cells, helpers,
                     defaults=None, kwdefaults=None, origin=""):
    """Compile ``source`` (one def named ``name``) into a function.

    ``user_cells``: the differentiated function's closure cells by name;
    ``helpers``: other objects the code reads by name, given fresh cells.
    """
    free = sorted(set(user_cells) | set(helpers))
    header = f"# srcad generated from {origin}\n" if origin else ""
    module_text = (header + f"def srcad_factory({', '.join(free)}):\n"
                   + "".join("    " + line if line.strip() else line
                             for line in source.splitlines(True))
                   + f"    return {name}\n")
    filename = f"<srcad {name} #{next(_counter)}>"
    code = compile(module_text, filename, "exec")
    factory = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in factory.co_consts
                 if isinstance(c, types.CodeType) and c.co_name == name)
    closure = tuple(user_cells[n] if n in user_cells else types.CellType(helpers[n])
                    for n in inner.co_freevars)
    fn = types.FunctionType(inner, user_globals, name, defaults, closure or None)
    if kwdefaults:
        fn.__kwdefaults__ = dict(kwdefaults)
    linecache.cache[filename] = (len(module_text), None, module_text.splitlines(True), filename)
    return fn
