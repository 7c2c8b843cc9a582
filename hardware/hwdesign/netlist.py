"""A reader for KiCad S-expression netlists (the ``(export (version "D") ...)`` files
SKiDL writes): components with their fields, and which net each pin is on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


def parse_sexp(text: str) -> list:
    """Parse one S-expression into nested lists of strings. Raises ValueError on
    unbalanced parentheses or trailing text."""
    stack: list[list] = [[]]
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"netlist: cannot read at character {pos}")
        pos = m.end()
        if m.group(1):
            stack.append([])
        elif m.group(2):
            if len(stack) < 2:
                raise ValueError(f"netlist: unbalanced ')' at character {pos}")
            done = stack.pop()
            stack[-1].append(done)
        elif m.group(3) is not None:
            stack[-1].append(m.group(3).replace('\\"', '"'))
        else:
            stack[-1].append(m.group(4))
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError("netlist: unbalanced parentheses or more than one top-level expression")
    return stack[0][0]


def _child(node: list, key: str) -> list | None:
    for item in node[1:]:
        if isinstance(item, list) and item and item[0] == key:
            return item
    return None


def _children(node: list, key: str) -> list[list]:
    return [item for item in node[1:] if isinstance(item, list) and item and item[0] == key]


@dataclass
class Netlist:
    """components: ref -> {value, part, fields{name: value}}; nets: name -> [(ref, pin)]."""

    components: dict[str, dict] = field(default_factory=dict)
    nets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def net_of(self, ref: str, pin: str) -> str | None:
        for name, nodes in self.nets.items():
            if (ref, pin) in nodes:
                return name
        return None

    @classmethod
    def parse(cls, text: str) -> "Netlist":
        root = parse_sexp(text)
        if not root or root[0] != "export":
            raise ValueError("netlist: not a KiCad netlist (no 'export' at the top)")
        out = cls()
        comps = _child(root, "components") or ["components"]
        for comp in _children(comps, "comp"):
            ref = _child(comp, "ref")[1]
            value = (_child(comp, "value") or [None, ""])[1]
            lib = _child(comp, "libsource")
            part = (_child(lib, "part") or [None, ""])[1] if lib else ""
            fields = {}
            flds = _child(comp, "fields")
            for f in _children(flds, "field") if flds else []:
                name = _child(f, "name")[1]
                vals = [v for v in f[1:] if isinstance(v, str)]
                fields[name] = vals[0] if vals else ""
            out.components[ref] = {"value": value, "part": part, "fields": fields}
        nets = _child(root, "nets") or ["nets"]
        for net in _children(nets, "net"):
            name = _child(net, "name")[1]
            out.nets[name] = [(_child(nd, "ref")[1], _child(nd, "pin")[1]) for nd in _children(net, "node")]
        return out
