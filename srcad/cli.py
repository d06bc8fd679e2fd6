"""The command line: ``srcad grad|graph|check path/to/file.py:func``.

Each subcommand loads the user's file as a module (so srcad reads the
function's source exactly as it would from an import), then calls the public
API.  Errors srcad raises on purpose are printed as the library renders them
(file, line, caret, hint) with exit status 1, never as a traceback of srcad's
internals; an error inside the user's own module is shown as Python's
traceback of that module, also with status 1.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import inspect
import os
import shutil
import subprocess
import sys
import traceback
from typing import Any, Callable, Sequence

import numpy as np

import srcad
from srcad.errors import SrcadError

MODES = ("grad", "value_and_grad", "vjp", "jvp", "hessian", "hvp")
FORMATS = ("text", "dot", "svg", "png")


class CommandError(Exception):
    """A mistake on the command line (bad target, bad --args): message, status 1."""


# --------------------------------------------------------------------------
# loading path/to/file.py:func
# --------------------------------------------------------------------------

def load_target(target: str) -> Callable:
    """The function named by ``file.py:func`` (or ``package.module:func``).

    ``func`` may be dotted (``Model.loss``).  A file is imported under a
    module name of its own, with its folder first on ``sys.path`` so that its
    own imports of neighbouring modules work as when it is run as a script.
    """
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise CommandError(f"expected FILE.py:FUNCTION, got {target!r} "
                           f"(for example: srcad grad model.py:loss)")
    module = _load_module(where)
    obj: Any = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            found = sorted(n for n, v in vars(module).items()
                           if inspect.isfunction(v) and v.__module__ == module.__name__)
            raise CommandError(f"{where} has no function {name!r}"
                               + (f"; its functions are: {', '.join(found)}" if found else "")) from None
    if not callable(obj):
        raise CommandError(f"{where}:{name} is a {type(obj).__name__}, not a function")
    return obj


def _load_module(where: str):
    if where.endswith(".py") or os.sep in where or os.path.exists(where):
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise CommandError(f"no such file: {where}")
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        name = "srcad_cli_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module            # dataclasses and pickling look modules up
        _run_user_code(spec.loader.exec_module, module, where)
        return module
    return _run_user_code(importlib.import_module, where, where)


def _run_user_code(call, argument, where):
    """Run the user's code; its own errors become a short traceback and status 1.
    What it prints goes to stderr, so ``srcad grad f.py:g > grad.py`` stays code."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return call(argument)
    except SrcadError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name == argument:
            raise CommandError(f"no such file or module: {where}") from None
        raise _UserCodeError(exc) from None
    except Exception as exc:                   # noqa: BLE001 - reported, exit 1
        raise _UserCodeError(exc) from None


class _UserCodeError(Exception):
    """An exception raised by the user's own code; printed as its traceback."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.exc = exc


# --------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------

def parse_wrt(text: str | None, default: Any = 0) -> Any:
    """``x`` -> ``'x'``, ``0`` -> ``0``, ``x,W`` -> ``('x', 'W')`` (a trailing
    comma, ``x,``, also makes a tuple, as in Python)."""
    if text is None:
        return default
    items = [item.strip() for item in text.split(",")]
    values = [int(item) if item.lstrip("-").isdigit() else item for item in items if item]
    if not values:
        raise CommandError(f"--wrt {text!r} names no parameter")
    return tuple(values) if "," in text else values[0]


def _random_namespace(seed: int) -> dict:
    """Names ``--args`` may use: ``np``, and seeded ``randn``/``rand``/``zeros``/``ones``."""
    rng = np.random.default_rng(seed)

    def randn(*shape):
        return float(rng.standard_normal()) if not shape else rng.standard_normal(shape)

    def rand(*shape):
        return float(rng.random()) if not shape else rng.random(shape)

    def zeros(*shape):
        return 0.0 if not shape else np.zeros(shape)

    def ones(*shape):
        return 1.0 if not shape else np.ones(shape)

    return {"np": np, "numpy": np, "randn": randn, "rand": rand, "zeros": zeros,
            "ones": ones, "__builtins__": __builtins__}


def parse_args_spec(text: str, seed: int = 0) -> tuple[list, dict]:
    """Positional and keyword arguments from ``--args``.

    The text is read as the inside of a call, so both ``1.0, np.ones(3)`` and
    ``x=randn(3), W=randn(3, 4)`` work; each argument is a Python expression
    evaluated with ``np`` and seeded ``randn``, ``rand``, ``zeros``, ``ones``.
    """
    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError as exc:
        raise CommandError(f"--args is not a Python argument list: {text!r} ({exc.msg})") from None
    if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) \
            or any(k.arg is None for k in call.keywords):
        raise CommandError(f"--args must list values, like 'x=randn(3), W=randn(3, 4)': {text!r}")
    namespace = _random_namespace(seed)

    def value(node):
        expr = ast.Expression(body=node)
        try:
            return eval(compile(expr, "<--args>", "eval"), namespace)   # noqa: S307 - the user's own input
        except Exception as exc:              # noqa: BLE001
            raise CommandError(f"--args: cannot evaluate {ast.unparse(node)!r}: "
                               f"{type(exc).__name__}: {exc}") from None

    return [value(a) for a in call.args], {k.arg: value(k.value) for k in call.keywords}


def _is_real(value: Any) -> bool:
    """A float, a float array, or a dict/list/tuple of them: what check_grad can check."""
    if isinstance(value, (dict, list, tuple)):
        items = value.values() if isinstance(value, dict) else value
        return bool(items) and all(_is_real(v) for v in items)
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return True
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


# --------------------------------------------------------------------------
# the subcommands
# --------------------------------------------------------------------------

def cmd_grad(ns: argparse.Namespace) -> int:
    f = load_target(ns.target)
    transform = getattr(srcad, ns.mode)
    d = transform(f, wrt=parse_wrt(ns.wrt))
    _write_text(d.source.rstrip("\n") + "\n", ns.output, ns.color, highlight=True)
    return 0


def cmd_graph(ns: argparse.Namespace) -> int:
    f = load_target(ns.target)
    wrt = parse_wrt(ns.wrt, default=None)
    g = srcad.graph(f, wrt=wrt, sweep=ns.sweep, expand=not ns.no_expand)
    if ns.format == "text":
        _write_text(str(g) + "\n", ns.output, "never")
    elif ns.format == "dot":
        _write_text(g.to_dot() + "\n", ns.output, "never")
    else:
        data = render_dot(g.to_dot(), ns.format)
        if ns.output in (None, "-"):
            if sys.stdout.isatty():
                raise CommandError(f"--format {ns.format} writes binary data: give -o FILE "
                                   f"(for example -o graph.{ns.format})")
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            with open(ns.output, "wb") as out:
                out.write(data)
    return 0


def render_dot(dot: str, fmt: str) -> bytes:
    """Run Graphviz's ``dot`` on ``dot`` text; a clear error when it is missing."""
    exe = shutil.which("dot")
    if exe is None:
        raise CommandError(
            f"--format {fmt} needs Graphviz's `dot` program, which is not on PATH; install "
            f"Graphviz (apt-get install graphviz, brew install graphviz, conda install graphviz) "
            f"or write --format dot and render it elsewhere")
    done = subprocess.run([exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise CommandError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def cmd_check(ns: argparse.Namespace) -> int:
    f = load_target(ns.target)
    args, kwargs = parse_args_spec(ns.args, ns.seed)
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
    except TypeError as exc:
        raise CommandError(f"--args do not fit {f.__name__}{inspect.signature(f)}: {exc}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise CommandError(f"srcad check passes arguments by position; {', '.join(bound.kwargs)} "
                           f"cannot be passed that way")
    names = list(bound.arguments)
    values = list(bound.args)
    if ns.wrt is not None:
        wrt = parse_wrt(ns.wrt)
    else:
        real = tuple(n for n, v in zip(names, values) if _is_real(v))
        wrt = real if real else 0
    errors = _run_user_code(lambda _: srcad.check_grad(f, *values, wrt=wrt, eps=ns.eps, rtol=ns.rtol,
                                                       atol=ns.atol), None, ns.target)
    shown = ", ".join(f"{n}={_describe(v)}" for n, v in zip(names, values))
    print(f"check_grad {f.__qualname__}({shown})")
    print("srcad's gradient agrees with central finite differences; largest error per parameter:")
    for name, err in errors.items():
        print(f"  {name}: {err:.1e}")
    return 0


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"{type(value).__name__}[{len(value)}]"
    return repr(value)


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

def _write_text(text: str, output: str | None, color: str, highlight: bool = False) -> None:
    if output not in (None, "-"):
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
        return
    if highlight and _want_color(color):
        text = highlight_terminal(text)
    sys.stdout.write(text)


def _want_color(color: str) -> bool:
    if color == "always":
        return True
    if color == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def highlight_terminal(text: str) -> str:
    """``text`` with ANSI colours from Pygments, or unchanged without Pygments."""
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return highlight(text, PythonLexer(), TerminalFormatter())


# --------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srcad",
        description="Differentiate a Python/NumPy function by source transformation and "
                    "show the generated code, its graph, or a finite-difference check.",
        epilog="examples:\n"
               "  srcad grad model.py:loss --wrt W,b\n"
               "  srcad grad model.py:loss --mode hvp\n"
               "  srcad graph model.py:loss --format svg -o loss.svg\n"
               "  srcad graph model.py:loss --sweep reverse --format svg -o backprop.svg\n"
               "  srcad check model.py:loss --args 'W=randn(3, 4), b=randn(4), x=randn(5, 3)'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"srcad {srcad.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    target_help = "FILE.py:FUNCTION (or package.module:FUNCTION) to differentiate"
    wrt_help = ("parameters to differentiate with respect to: a name or index, or a comma-separated "
                "list (x,W), which gives a tuple of gradients")

    def command(name, wrt_default, **options):
        """A subcommand of FILE.py:FUNCTION with its --wrt (all three have both)."""
        p = sub.add_parser(name, **options)
        p.add_argument("target", metavar="FILE.py:FUNCTION", help=target_help)
        p.add_argument("--wrt", "--argnums", metavar="PARAMS", help=f"{wrt_help} (default: {wrt_default})")
        return p

    p = command("grad", "0", help="print the generated derivative code",
                description="Print the source srcad generates for FUNCTION (its callees "
                            "included), highlighted on a terminal when Pygments is installed.")
    p.add_argument("--mode", choices=MODES, default="grad", help="which transform (default: grad)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="syntax highlighting (default: auto, on a terminal; NO_COLOR disables it)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=cmd_grad)

    p = command("graph", "every parameter", help="write the computational graph (text, DOT, SVG, PNG)",
                description="Write FUNCTION's computational graph.  svg and png need "
                            "Graphviz's `dot` program on PATH.")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--sweep", choices=("forward", "reverse"), default="forward",
                   help="forward: the function's graph; reverse: the adjoint graph, the reverse "
                        "sweep's statements and the adjoints flowing between them (default: forward)")
    p.add_argument("--no-expand", action="store_true",
                   help="draw a call of your own function as one box, not as a cluster holding "
                        "the callee's graph")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=cmd_graph)

    p = command("check", "every float or float-array argument",
                help="check the gradient against central finite differences",
                description="Run srcad.check_grad on FUNCTION at the given arguments and "
                            "print the largest error per parameter (exit status 1 on a "
                            "mismatch).",
                epilog="--args is read as the inside of a call: Python expressions, "
                       "positional or name=value, with np and seeded randn(*shape), "
                       "rand(*shape), zeros(*shape), ones(*shape) available:\n"
                       "  --args '1.0, 3.0, -3.0'\n"
                       "  --args 'x=randn(3), W=randn(3, 4)'\n"
                       "  --args 'np.linspace(0, 1, 5), {\"w\": ones(5)}'",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--args", required=True, metavar="ARGS", help="the point to check at (see below)")
    p.add_argument("--seed", type=int, default=0, help="seed of randn/rand (default: 0)")
    p.add_argument("--eps", type=float, default=1e-6, help="finite-difference step (default: 1e-6)")
    p.add_argument("--rtol", type=float, default=1e-5, help="relative tolerance (default: 1e-5)")
    p.add_argument("--atol", type=float, default=1e-7, help="absolute tolerance (default: 1e-7)")
    p.set_defaults(run=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 error, 2 usage)."""
    ns = build_parser().parse_args(argv)
    try:
        return ns.run(ns)
    except (SrcadError, CommandError) as exc:
        print(f"srcad: {_error_kind(exc)}{exc}", file=sys.stderr)
        return 1
    except _UserCodeError as exc:
        print(f"srcad: error while running {ns.target.rpartition(':')[0]}:", file=sys.stderr)
        _print_user_traceback(exc.exc)
        return 1
    except BrokenPipeError:                    # srcad grad f.py:g | head
        return 0


def _print_user_traceback(exc: BaseException) -> None:
    """Python's traceback of an error in the user's code, without srcad's frames."""
    here = os.path.dirname(os.path.abspath(__file__))
    shown = traceback.TracebackException.from_exception(exc)
    shown.stack = traceback.StackSummary.from_list(
        [frame for frame in shown.stack if not os.path.abspath(frame.filename).startswith(here)
         and "importlib" not in frame.filename])
    sys.stderr.write("".join(shown.format()))


def _error_kind(exc: BaseException) -> str:
    return "" if isinstance(exc, CommandError) else f"{type(exc).__name__}: "
