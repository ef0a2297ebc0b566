"""The state machine as a picture: a layered (Sugiyama-style) layout of an ASL definition.

The dashboard draws the graph server-side, as SVG, so the browser needs no layout library and no
asset from the internet. The steps are the classic ones, kept small because state machines are
small (tens of states): break cycles by reversing DFS back edges (the Wait/Choice polling loops),
put each state on the layer of its longest path from ``StartAt``, add a dummy point on every layer a
long edge crosses, order each layer by the barycentre of its neighbours (a few sweeps), then pull
each node towards its neighbours without overlaps. A Parallel or Map state is a box holding the
layouts of its branches / item processor, laid out first so the box has its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

NODE_H = 34
_WEIGHT = {"next": 1.0, "choice": 1.0, "default": 1.0, "catch": 0.15}
MIN_W = 104
CHAR_W = 7.0
LAYER_GAP = 44
NODE_GAP = 26
GROUP_PAD = 14
GROUP_HEAD = 22
DUMMY_W = 8


@dataclass
class Node:
    """A state drawn as a box; ``x``, ``y`` are its top-left corner."""

    key: str  # scope-qualified, unique in the drawing
    name: str  # the state's name, as history events name it
    type: str
    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    group: bool = False  # a Parallel/Map box that contains other nodes
    start: bool = False  # the StartAt of the top level
    end: bool = False  # ends the execution (End: true, Succeed, Fail)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Edge:
    src: str
    dst: str
    kind: str  # next, choice, default, catch
    label: str = ""
    back: bool = False  # goes up (a loop)
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def src_name(self) -> str:
        return self.src.rsplit("/", 1)[1]

    @property
    def dst_name(self) -> str:
        return self.dst.rsplit("/", 1)[1]

    @property
    def path(self) -> str:
        """SVG path data: from the first point to the last, with rounded bends at the points between."""
        pts = self.points
        if not pts:
            return ""
        d = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
        for (x1, y1), (x2, y2) in pairwise(pts[1:]):
            d.append(f"Q{x1:.1f},{y1:.1f} {(x1 + x2) / 2:.1f},{(y1 + y2) / 2:.1f}")
        d.append(f"L{pts[-1][0]:.1f},{pts[-1][1]:.1f}")
        return " ".join(d)

    @property
    def label_at(self) -> tuple[float, float]:
        pts = self.points
        (x0, y0), (x1, y1) = (pts[0], pts[1]) if len(pts) > 1 else (pts[0], pts[0])
        return (x0 + x1) / 2 + 4, (y0 + y1) / 2


@dataclass
class Group:
    """The frame of a Parallel branch or a Map item processor, drawn behind its nodes."""

    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    groups: list[Group]
    width: float
    height: float

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)


def layout(definition: dict[str, Any]) -> Graph:
    """The drawing of a (valid) ASL definition, with absolute coordinates."""
    g = _layout_scope(definition, "", top=True)
    return Graph(g.nodes, g.edges, g.groups, g.width, g.height)


def _edges_of(scope_id: str, states: dict[str, Any]) -> list[Edge]:
    def key(name: str) -> str:
        return f"{scope_id}/{name}"

    out: list[Edge] = []
    for name, body in states.items():
        if body.get("Next"):
            out.append(Edge(key(name), key(body["Next"]), "next"))
        for i, choice in enumerate(body.get("Choices", ())):
            if choice.get("Next"):
                out.append(Edge(key(name), key(choice["Next"]), "choice", _choice_label(choice, i)))
        if body.get("Default"):
            out.append(Edge(key(name), key(body["Default"]), "default", "default"))
        for catch in body.get("Catch", ()):
            errors = ", ".join(catch.get("ErrorEquals", ()))
            out.append(Edge(key(name), key(catch["Next"]), "catch", f"catch {errors}"))
    return [e for e in out if e.dst[len(scope_id) + 1 :] in states]


def _choice_label(choice: dict[str, Any], index: int) -> str:
    """A short text for a Choice rule: ``$.status == "stopped"`` when it is that simple."""
    if "Condition" in choice:  # JSONata
        text = str(choice["Condition"]).strip("{}% ")
        return text if len(text) <= 40 else f"rule {index + 1}"
    var = choice.get("Variable")
    ops = [k for k in choice if k not in ("Variable", "Next", "Assign", "Output", "Comment")]
    if var and len(ops) == 1:
        op = ops[0]
        value = choice[op]
        short = {
            "StringEquals": "==",
            "NumericEquals": "==",
            "BooleanEquals": "==",
            "NumericGreaterThan": ">",
            "NumericGreaterThanEquals": ">=",
            "NumericLessThan": "<",
            "NumericLessThanEquals": "<=",
        }.get(op, op)
        text = f"{var} {short} {value!r}" if short != op else f"{var} {op}"
        return text if len(text) <= 40 else f"rule {index + 1}"
    return f"rule {index + 1}"


@dataclass
class _Scoped:
    nodes: list[Node]
    edges: list[Edge]
    groups: list[Group]
    width: float
    height: float


def _layout_scope(raw: dict[str, Any], scope_id: str, top: bool = False) -> _Scoped:
    states: dict[str, Any] = raw["States"]
    nodes: dict[str, Node] = {}
    inner: dict[str, list[tuple[str, _Scoped]]] = {}
    for name, body in states.items():
        key = f"{scope_id}/{name}"
        kind = body["Type"]
        w = max(MIN_W, CHAR_W * len(name) + 28)
        h = float(NODE_H)
        if kind in ("Parallel", "Map"):
            subs = _sub_scopes(key, body)
            inner[key] = subs
            w = max(w, sum(s.width for _, s in subs) + GROUP_PAD * (len(subs) + 1))
            h = GROUP_HEAD + max(s.height for _, s in subs) + 2 * GROUP_PAD
        ends = bool(body.get("End")) or kind in ("Succeed", "Fail")
        nodes[key] = Node(key, name, kind, w, h, group=kind in ("Parallel", "Map"), end=ends)
    start = f"{scope_id}/{raw['StartAt']}"
    nodes[start].start = top
    edges = _edges_of(scope_id, states)

    order = _dfs_order(start, nodes, edges)
    back = _back_edges(order, edges)
    for e in edges:
        e.back = (e.src, e.dst, e.kind, e.label) in back
    layers = _layers(order, edges)
    rows, chains = _insert_dummies(layers, edges)
    _order_rows(rows, chains, edges)
    sizes = {k: (n.w, n.h) for k, n in nodes.items()}
    paths = [
        ([e.src, *chains[i], e.dst], _WEIGHT[e.kind] / (3 if e.back else 1)) for i, e in enumerate(edges)
    ]
    width, height, pos = _place(rows, sizes, paths)
    for key, n in nodes.items():
        n.x, n.y = pos[key]
    _route(edges, nodes, chains, pos)

    all_nodes = list(nodes.values())
    all_edges = list(edges)
    groups: list[Group] = []
    for key, subs in inner.items():
        box = nodes[key]
        x = box.x + GROUP_PAD
        total = sum(s.width for _, s in subs) + GROUP_PAD * (len(subs) - 1)
        x += (box.w - 2 * GROUP_PAD - total) / 2
        for label, sub in subs:
            dx, dy = x, box.y + GROUP_HEAD + GROUP_PAD
            groups.append(Group(label, dx - 6, dy - 6, sub.width + 12, sub.height + 12))
            for n in sub.nodes:
                n.x += dx
                n.y += dy
            for e in sub.edges:
                e.points = [(px + dx, py + dy) for px, py in e.points]
            for grp in sub.groups:
                grp.x += dx
                grp.y += dy
            all_nodes += sub.nodes
            all_edges += sub.edges
            groups += sub.groups
            x += sub.width + GROUP_PAD
    return _Scoped(all_nodes, all_edges, groups, width, height)


def _sub_scopes(key: str, body: dict[str, Any]) -> list[tuple[str, _Scoped]]:
    if body["Type"] == "Parallel":
        return [
            (f"branch {i + 1}", _layout_scope(b, f"{key}#{i}"))
            for i, b in enumerate(body.get("Branches", ()))
        ]
    proc = body.get("ItemProcessor") or body.get("Iterator") or {"StartAt": "", "States": {}}
    return [("each item", _layout_scope(proc, f"{key}#p"))]


def _dfs_order(start: str, nodes: dict[str, Node], edges: list[Edge]) -> list[str]:
    """Nodes in depth-first order from ``start``, then the unreachable ones in definition order."""
    out_edges: dict[str, list[str]] = {k: [] for k in nodes}
    for e in edges:
        out_edges[e.src].append(e.dst)
    seen: list[str] = []
    stack = [start]
    while stack:
        k = stack.pop()
        if k in seen:
            continue
        seen.append(k)
        stack.extend(reversed([d for d in out_edges[k] if d not in seen]))
    return seen + [k for k in nodes if k not in seen]


def _back_edges(order: list[str], edges: list[Edge]) -> set[tuple[str, str, str, str]]:
    """Edges closing a cycle in a DFS from the first node (recursive DFS, with an explicit stack)."""
    out_edges: dict[str, list[Edge]] = {k: [] for k in order}
    for e in edges:
        out_edges[e.src].append(e)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str, str, str]] = set()
    for root in order:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            k, i = stack.pop()
            if i < len(out_edges[k]):
                stack.append((k, i + 1))
                e = out_edges[k][i]
                if state.get(e.dst) == 1:
                    back.add((e.src, e.dst, e.kind, e.label))
                elif e.dst not in state:
                    state[e.dst] = 1
                    stack.append((e.dst, 0))
            else:
                state[k] = 2
    return back


def _layers(order: list[str], edges: list[Edge]) -> dict[str, int]:
    """Longest-path layering over the edges with loops reversed."""
    forward = [(e.dst, e.src) if e.back else (e.src, e.dst) for e in edges if e.src != e.dst]
    layer = {k: 0 for k in order}
    for _ in range(len(order)):
        changed = False
        for a, b in forward:
            if layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    return layer


def _insert_dummies(
    layers: dict[str, int], edges: list[Edge]
) -> tuple[list[list[str]], dict[int, list[str]]]:
    """Rows of keys per layer (dummies named ``~<edge>~<layer>``), and each edge's dummy chain."""
    rows: list[list[str]] = [[] for _ in range(max(layers.values(), default=0) + 1)]
    for k, n in layers.items():
        rows[n].append(k)
    chains: dict[int, list[str]] = {}
    for i, e in enumerate(edges):
        a, b = (e.dst, e.src) if e.back else (e.src, e.dst)
        la, lb = layers[a], layers[b]
        chain = []
        for layer in range(la + 1, lb):
            dummy = f"~{i}~{layer}"
            rows[layer].append(dummy)
            chain.append(dummy)
        chains[i] = chain
    return rows, chains


def _order_rows(rows: list[list[str]], chains: dict[int, list[str]], edges: list[Edge]) -> None:
    """Barycentre ordering: a few down and up sweeps over the layers."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for i, e in enumerate(edges):
        a, b = (e.dst, e.src) if e.back else (e.src, e.dst)
        path = [a, *chains[i], b]
        for u, v in pairwise(path):
            down.setdefault(u, []).append(v)
            up.setdefault(v, []).append(u)

    def sweep(order_from: list[list[str]], neighbours: dict[str, list[str]]) -> None:
        for idx in range(1, len(order_from)):
            ref = {k: i for i, k in enumerate(order_from[idx - 1])}
            row = order_from[idx]
            current = {k: i for i, k in enumerate(row)}

            def bary(k: str, ref: dict[str, int] = ref, current: dict[str, int] = current) -> float:
                ns = [ref[n] for n in neighbours.get(k, []) if n in ref]
                return sum(ns) / len(ns) if ns else float(current[k])

            row.sort(key=bary)

    for _ in range(4):
        sweep(rows, up)
        reversed_rows = rows[::-1]
        sweep(reversed_rows, down)


def _place(
    rows: list[list[str]], sizes: dict[str, tuple[float, float]], paths: list[tuple[list[str], float]]
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Top-left corners. Layers are placed top-down: each node under the weighted mean of the nodes
    above it that lead to it, then pushed right just enough not to overlap its left neighbour. A
    catch edge or a loop pulls less than the flow itself, so the main path stays a straight line."""

    def width(k: str) -> float:
        return sizes[k][0] if k in sizes else DUMMY_W

    def height(k: str) -> float:
        return sizes[k][1] if k in sizes else NODE_H

    layer_of = {k: i for i, row in enumerate(rows) for k in row}
    above: dict[str, list[tuple[str, float]]] = {}
    for path, weight in paths:
        for u, v in pairwise(path):
            w = 1.0 if u not in sizes and v not in sizes else weight
            if layer_of[u] < layer_of[v]:
                above.setdefault(v, []).append((u, w))
            elif layer_of[v] < layer_of[u]:
                above.setdefault(u, []).append((v, w))
    cx: dict[str, float] = {}
    for row in rows:
        right = -1e9
        prev = None
        for k in row:
            ns = [(cx[n], w) for n, w in above.get(k, []) if n in cx]
            total = sum(w for _, w in ns)
            want = sum(x * w for x, w in ns) / total if total else width(k) / 2
            if prev is not None:
                want = max(want, right + NODE_GAP + width(k) / 2)
            cx[k] = want
            right = want + width(k) / 2
            prev = k
    left = min((cx[k] - width(k) / 2 for row in rows for k in row), default=0.0)
    right_edge = max((cx[k] + width(k) / 2 for row in rows for k in row), default=0.0)
    pos: dict[str, tuple[float, float]] = {}
    y = 0.0
    for row in rows:
        h = max((height(k) for k in row), default=NODE_H)
        for k in row:
            pos[k] = (cx[k] - width(k) / 2 - left, y + (h - height(k)) / 2)
        y += h + LAYER_GAP
    return right_edge - left, max(y - LAYER_GAP, NODE_H), pos


def _route(
    edges: list[Edge],
    nodes: dict[str, Node],
    chains: dict[int, list[str]],
    pos: dict[str, tuple[float, float]],
) -> None:
    """Points of each edge: bottom of the source to the top of the target through its dummies; a
    loop leaves and re-enters on the right side, so it does not run over the forward edges."""
    for i, e in enumerate(edges):
        a, b = nodes[e.src], nodes[e.dst]
        via = [(pos[d][0] + DUMMY_W / 2, pos[d][1] + NODE_H / 2) for d in chains[i]]
        if e.src == e.dst:
            r = a.x + a.w
            e.points = [(r, a.y + 8), (r + 24, a.y - 6), (r + 24, a.y + a.h + 6), (r, a.y + a.h - 8)]
        elif e.back:
            start = (a.x + a.w, a.y + a.h / 2)
            end = (b.x + b.w, b.y + b.h / 2)
            if not via:
                side = max(start[0], end[0]) + 28
                via = [(side, start[1]), (side, end[1])]
            e.points = [start, *reversed(via), end]
        else:
            e.points = [(a.cx, a.y + a.h), *via, (b.cx, b.y)]
