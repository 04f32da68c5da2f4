"""pglast's rendering of an accepted tree, checked by parsing it back: what runs means exactly
what was checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemalock.usersql.catalog import NOISE
from schemalock.usersql.trees import Rejected


def _same(left: Any, right: Any) -> bool:
    """Whether two trees mean the same, positions, display hints and default values aside;
    compared node by node, never copied (an expression may be hundreds of thousands of nodes)."""
    left, right = _enum_name(left), _enum_name(right)
    if isinstance(left, dict) or isinstance(right, dict):
        if not (isinstance(left, dict) and isinstance(right, dict)):
            return False
        mine, theirs = _meaningful(left), _meaningful(right)
        return mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)
    if isinstance(left, list | tuple) or isinstance(right, list | tuple):
        if not (isinstance(left, list | tuple) and isinstance(right, list | tuple)):
            return False
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _enum_name(node: Any) -> Any:
    return node["name"] if isinstance(node, dict) and "#" in node else node


def _meaningful(node: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in node.items()
        if key not in NOISE and value not in (None, False, 0, "", ())
    }


def render(tree: dict[str, Any], reparse: Callable[[str], dict[str, Any]]) -> str:
    """pglast's rendering of `tree`, parsed back to the same tree: what runs means exactly what
    was checked (no precedence lost to parentheses, nothing left outside the expression)."""
    from pglast import ast
    from pglast.stream import RawStream

    node = getattr(ast, tree["@"])(tree)
    text = str(RawStream()(node))
    _forget_ancestors(node)
    del node
    try:
        same = _same(reparse(text), tree)
    except Rejected:
        same = False
    if not same:
        raise Rejected(f"could not render the expression faithfully (got {text}); rewrite it")
    return text


def _forget_ancestors(root: Any) -> None:
    """Printing links every node to its parent (pglast's `ancestors`): cycles that only the
    garbage collector frees, which the command line switches off.  Unlinked, the printed tree
    is freed as soon as it is dropped."""
    from pglast import ast

    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            item.ancestors = None
            fields = getattr(type(item), "__slots__", ())
            stack.extend(getattr(item, name, None) for name in fields)
        elif isinstance(item, list | tuple):
            stack.extend(item)
