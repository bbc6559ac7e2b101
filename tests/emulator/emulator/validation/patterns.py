"""The models' regular expressions, compiled to match the way AWS matches them.

AWS services check a ``pattern`` trait with Java's ``java.util.regex``
against the whole value (``Matcher.matches()``). Two differences from
Python matter for the patterns in the models this emulator validates:

- Java's ``\\w``, ``\\d`` and ``\\s`` are ASCII-only by default; Python's are
  Unicode. ``RoleName``'s ``[\\w+=,.@-]+`` must refuse ``é`` as AWS does.
- Java supports Unicode properties (``\\p{L}``), which Python's ``re`` does
  not. IAM's and STS's tag patterns use them.

So patterns compile with the ``regex`` module (for ``\\p{..}``), without its
ASCII flag (which would make ``\\p{L}`` ASCII too), after rewriting the six
class shorthands into explicit ASCII sets. Inside a bracketed class only the
positive shorthands can be spelled out; a negated one there (``[\\s\\S]``) is
left as is, where Java and Python differ only for Unicode whitespace.
Java's ``.`` also refuses ``\\r`` and a few Unicode line separators that
Python's accepts; no validated pattern depends on it.
"""

from __future__ import annotations

import functools

import regex

_SPACE = " \\t\\n\\x0B\\f\\r"
# Outside a class: the shorthand as a whole class.
_OUTSIDE = {
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "d": "[0-9]",
    "D": "[^0-9]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
# Inside a class: the members to splice in.
_INSIDE = {"w": "A-Za-z0-9_", "d": "0-9", "s": _SPACE}


def java_to_python(pattern: str) -> str:
    """Rewrites Java's ASCII class shorthands for the ``regex`` module."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if in_class and nxt in _INSIDE:
                out.append(_INSIDE[nxt])
            elif not in_class and nxt in _OUTSIDE:
                out.append(_OUTSIDE[nxt])
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            i += 1
            # A ']' right after '[' or '[^' is a literal, not the end.
            if i < len(pattern) and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


@functools.cache
def compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(java_to_python(pattern))


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` as a whole matches the model's ``pattern``."""
    return compiled(pattern).fullmatch(value) is not None
