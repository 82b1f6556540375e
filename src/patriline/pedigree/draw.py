"""Pictures of an expansion: the paternal tree as SVG (graphviz ``dot`` layout).

Typed men are grey boxes, untested men ellipses filled by their donor posterior (a
colour scale from white to dark red, shown in a legend), the hit has a thick blue
double border; beside the tree a table compares the trace with the hit locus by locus
(differences in red). When a donor outside the tree is allowed, the legend shows its
posterior. An expansion of several unrelated families draws each family in its own
box (a graphviz cluster) headed by its first hit and the posterior that the donor is
one of its men; the table then has one column per family's hit.

Layout and rendering run in-process through pygraphviz, whose wheels bundle the graphviz
libraries: no ``dot`` program is needed.
"""

from __future__ import annotations

import html
from pathlib import Path

import pygraphviz
from matplotlib import colormaps
from matplotlib.colors import to_hex

from patriline._files import write_private
from patriline.haplotype import compare
from patriline.pedigree.expand import Expansion

__all__ = ["LEGEND_STOPS", "colour_of", "expansion_graph", "write_svg"]

#: Posterior values shown in the legend.
LEGEND_STOPS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)
_CMAP = colormaps["YlOrRd"]


def colour_of(probability: float | None) -> str:
    """Fill colour for an untested man's posterior (``#ffffff`` for None/0)."""
    if probability is None or probability != probability or probability <= 0:
        return "#ffffff"
    # sqrt stretches small posteriors, which are the common case in big trees.
    return str(to_hex(_CMAP(min(1.0, probability) ** 0.5)))


def _text_colour(probability: float | None) -> str:
    return "#ffffff" if probability is not None and probability > 0.5 else "#000000"


def expansion_graph(expansion: Expansion) -> pygraphviz.AGraph:
    """The graph of ``expansion`` (DOT text: ``.string()``; SVG: ``write_svg``)."""
    g = pygraphviz.AGraph(name="expansion", directed=True, strict=False)
    g.graph_attr.update(rankdir="TB", fontname="Helvetica")
    g.node_attr.update(fontname="Helvetica", fontsize="10")
    hit_persons = set(expansion.hit_persons)
    several = len(expansion.families) > 1
    ranked = expansion.trace is not None and expansion.ranking is not None
    boxes: dict[str | None, pygraphviz.AGraph] = {}
    for i, f in enumerate(expansion.families if several else []):
        share = sum(m.posterior or 0.0 for m in expansion.members if m.family == f.name)
        label = f"family of hit {f.name}" + (f": P(donor in family) {share:.3g}" if ranked else "")
        boxes[f.name] = g.add_subgraph(
            name=f"cluster_family_{i}", label=label, fontsize="11", style="rounded", color="#7f7f7f"
        )
    for m in expansion.members:
        lines = [m.person]
        if m.specimen:
            lines.append(f"specimen {m.specimen}")
        dist = m.meioses_from_hit.get(expansion.family_hit_person(m.family))
        if dist is not None and m.person not in hit_persons:
            lines.append(f"{dist} meioses")
        if m.typed:
            attrs = {"shape": "box", "style": "filled", "fillcolor": "#d9d9d9"}
        else:
            attrs = {
                "shape": "ellipse",
                "style": "filled",
                "fillcolor": colour_of(m.posterior),
                "fontcolor": _text_colour(m.posterior),
            }
            if m.posterior is not None:
                lines.append(f"P(donor) {m.posterior:.3g}  rank {m.rank}")
        if m.person in hit_persons:
            attrs.update({"penwidth": "3", "color": "#1f4e9c", "peripheries": "2"})
            lines.insert(0, "HIT")
        boxes.get(m.family, g).add_node(_id(m.person), label="\n".join(lines), **attrs)
    for son, link in expansion.pedigree.links.items():
        g.add_edge(_id(link.father), _id(son))
    flagged = {f.person: f for f in (expansion.ranking.flags if expansion.ranking else [])}
    for person, flag in flagged.items():
        g.add_node(
            _id(person) + "_flag",
            label=f"{flag.message} (10^{flag.log10_ratio:.1f})",
            shape="note",
            fontcolor="#b00000",
            color="#b00000",
        )
        g.add_edge(_id(person) + "_flag", _id(person), style="dashed", arrowhead="none")
    outside = expansion.ranking.outside if expansion.ranking else None
    _legend(g, None if outside is None else outside.posterior)
    if expansion.trace is not None:
        _trace_table(g, expansion)
    return g


def _id(person: str) -> str:
    return "p_" + person


def _legend(g: pygraphviz.AGraph, outside: float | None = None) -> None:
    cells = "".join(
        f'<TD BGCOLOR="{colour_of(p) if p > 0 else "#ffffff"}">{p:g}</TD>' for p in LEGEND_STOPS
    )
    span = len(LEGEND_STOPS)
    extra = (
        ""
        if outside is None
        else f'<TR><TD COLSPAN="{span}">P(donor outside the tree) {outside:.3g}</TD></TR>'
    )
    label = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">'
        f'<TR><TD COLSPAN="{span}"><B>P(donor) of untested men</B></TD></TR>'
        f"<TR>{cells}</TR>"
        f'<TR><TD COLSPAN="{span}" BGCOLOR="#d9d9d9">box: typed</TD></TR>'
        f"{extra}</TABLE>>"
    )
    c = g.add_subgraph(name="cluster_legend", label="legend", fontsize="10")
    c.add_node("legend", label=label, shape="plaintext")


def _trace_table(g: pygraphviz.AGraph, expansion: Expansion) -> None:
    """The trace beside the hit of each family (one column per family's first hit)."""
    trace = expansion.trace
    assert trace is not None
    heads = [(f.name, f.hit_persons[0]) for f in expansion.families] or [
        (expansion.hit, expansion.hit_persons[0])
    ]
    hits = [expansion.haplotypes.get(person) for _, person in heads]
    comparisons = [compare(trace, h) if h is not None else None for h in hits]
    names = "".join(f"<TD><B>{html.escape(name)}</B></TD>" for name, _ in heads)
    rows = [f"<TR><TD><B>locus</B></TD><TD><B>trace</B></TD>{names}</TR>"]
    for locus in trace.to_dict():
        cells = []
        for hit, comparison in zip(hits, comparisons, strict=True):
            h = html.escape(str(hit[locus])) if hit is not None else ""
            differs = comparison is not None and comparison[locus].mismatches > 0
            colour = ' BGCOLOR="#f4b6b6"' if differs else ""
            cells.append(f"<TD{colour}>{h}</TD>")
        t = html.escape(str(trace[locus]))
        rows.append(f"<TR><TD>{html.escape(locus)}</TD><TD>{t}</TD>{''.join(cells)}</TR>")
    if len(heads) == 1:
        title = f"trace vs hit {html.escape(expansion.hit)}"
        comparison = comparisons[0]
        if comparison is not None:
            title += f": {comparison.mismatches} of {comparison.loci_compared} differ"
    else:
        title = "trace vs the hit of each family"
    label = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">'
        f'<TR><TD COLSPAN="{2 + len(heads)}"><B>{title}</B></TD></TR>' + "".join(rows) + "</TABLE>>"
    )
    c = g.add_subgraph(name="cluster_trace", label="", style="invis")
    c.add_node("trace", label=label, shape="plaintext")


def write_svg(expansion: Expansion, path: str | Path) -> Path:
    """Render ``expansion`` to an SVG file (``dot`` layout, in-process)."""
    path = Path(path)
    svg = expansion_graph(expansion).draw(format="svg", prog="dot")
    write_private(path, svg)
    return path
