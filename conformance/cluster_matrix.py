"""Cluster matrix from the cluster section's JSON indexes.

    python conformance/cluster_matrix.py --out docs build/conformance-cluster/*/index.json
writes docs/cluster-matrix.md and docs/cluster-matrix.html: one column per cluster (its nodes and the
versions they run), one verdict per requirement of conformance/CLUSTER-REQUIREMENTS.md, and each
`fail` and `non-strict` case with what it checked and what it saw.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import client_matrix  # noqa: E402
from client_matrix import cell, load, totals  # noqa: E402

from harness import catalogue  # noqa: E402

# The client matrix's verdict names and colours, plus the cluster cases' precondition-failed (a case
# that could not judge its requirement because cross-node delivery, CL-BC-01, does not work), each once.
VERDICTS = list(dict.fromkeys([*client_matrix.VERDICTS[:-3], "precondition-failed", *client_matrix.VERDICTS[-3:]]))
SYMBOL = {**client_matrix.SYMBOL, "precondition-failed": "precond."}
COLOUR = {**client_matrix.COLOUR, "precondition-failed": "#ffd8b0"}

GROUPS = [
    ("Broadcasts across nodes", "CL-BC"),
    ("Requests between nodes", "CL-RQ"),
    ("Broadcast acknowledgements", "CL-ACK"),
    ("Faults", "CL-FT"),
    ("Sticky sessions", "CL-ST"),
    ("Other adapter flavours", "CL-SH"),
    ("", "CL-HB"),
    ("", "CL-CSR"),
]


def name_of(index: dict[str, Any]) -> str:
    return str(index.get("target", "?")).removeprefix("cluster:")


def nodes_of(index: dict[str, Any]) -> str:
    info = index.get("target_info", {})
    parts = []
    for n in info.get("nodes", []):
        pk = n.get("packages", {})
        impl = str(n.get("implementation") or n.get("kind"))
        extra = ", ".join(
            f"{k} {v}" for k, v in pk.items() if k in ("@socket.io/redis-adapter", "redis") and f"{k} {v}" not in impl
        )
        parts.append(f"{n.get('label')}: {impl}" + (f" ({extra})" if extra else ""))
    return "; ".join(parts) + (f"; Redis {info['redis']}" if info.get("redis") else "")


def findings(index: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(requirement, verdict, what the case checked and saw) of every fail and non-strict case."""
    out = []
    for c in index.get("cases", []):
        if c.get("verdict") not in ("fail", "non-strict", "error"):
            continue
        lines = [ln.strip() for ln in (c.get("message") or "").splitlines()[1:] if ln.strip()]
        out.append((c.get("requirement") or "?", c["verdict"], " / ".join(lines)[:400]))
    return out


def rows_of(reqs: dict[str, catalogue.Requirement], prefix: str) -> list[str]:
    return [r for r in reqs if r.startswith(prefix + "-")]


def markdown(indexes: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement]) -> str:
    names = [name_of(i) for i in indexes]
    lines = [
        "# Cluster matrix",
        "",
        "Several servers of one application joined through Redis, judged by "
        "conformance/CLUSTER-REQUIREMENTS.md (`make cluster-matrix`). One verdict per requirement and "
        "cluster: the worst of its cases. The classic Redis adapter's bytes are judged only on nodes that "
        "speak it; a cluster whose nodes speak another protocol gets `n/a` there.",
        "",
        "| cluster | nodes |",
        "|---|---|",
        *[f"| {name_of(i)} | {nodes_of(i)} |" for i in indexes],
        "",
        "| Totals (requirements) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for v in VERDICTS:
        lines.append(f"| {v} | " + " | ".join(str(totals(i, reqs)[v]) for i in indexes) + " |")
    lines.append("| cases run | " + " | ".join(str(len(i.get("cases", []))) for i in indexes) + " |")
    lines += ["", "| ID | level | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for title, prefix in GROUPS:
        if title:
            lines.append(f"| **{title}** | | " + " | ".join("" for _ in names) + " |")
        for rid in rows_of(reqs, prefix):
            lines.append(f"| {rid} | {reqs[rid].level} | " + " | ".join(SYMBOL[cell(i, rid)] for i in indexes) + " |")
    for i in indexes:
        found = findings(i)
        if found:
            lines += ["", f"## {name_of(i)}: what failed", ""]
            lines += [f"- **{rid}** {verdict}: {what}" for rid, verdict, what in found]
    return "\n".join(lines) + "\n"


def html_page(indexes: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement]) -> str:
    names = [name_of(i) for i in indexes]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for title, prefix in GROUPS:
        if title:
            rows.append(f'<tr><th colspan="{len(names) + 3}" class="g">{html.escape(title)}</th></tr>')
        for rid in rows_of(reqs, prefix):
            cells = "".join(f'<td style="background:{COLOUR[cell(i, rid)]}">{cell(i, rid)}</td>' for i in indexes)
            rows.append(
                f"<tr><td>{rid}</td><td>{reqs[rid].level}</td><td class='t'>{html.escape(reqs[rid].text)}</td>"
                f"{cells}</tr>"
            )
    tot = "".join(
        f"<tr><td colspan='3'>{v}</td>" + "".join(f"<td>{totals(i, reqs)[v]}</td>" for i in indexes) + "</tr>"
        for v in VERDICTS
    )
    who = "".join(f"<li><b>{html.escape(name_of(i))}</b>: {html.escape(nodes_of(i))}</li>" for i in indexes)
    found = ""
    for i in indexes:
        items = "".join(
            f"<li><b>{html.escape(rid)}</b> {verdict}: {html.escape(what)}</li>" for rid, verdict, what in findings(i)
        )
        if items:
            found += f"<h2>{html.escape(name_of(i))}: what failed</h2><ul>{items}</ul>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Socket.IO cluster matrix</title>
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #aaa;padding:2px 6px;font-size:13px}}
th.g{{text-align:left;background:#eee}}td.t{{max-width:40em}}</style></head><body>
<h1>Socket.IO cluster matrix</h1>
<p>Several servers of one application joined through Redis; requirements: conformance/CLUSTER-REQUIREMENTS.md.</p>
<ul>{who}</ul>
<table><tr><th colspan="3">Totals (requirements)</th>{head}</tr>{tot}</table><p></p>
<table><tr><th>ID</th><th>level</th><th>requirement</th>{head}</tr>{"".join(rows)}</table>{found}</body></html>
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("indexes", nargs="+", type=Path)
    args = ap.parse_args(argv)
    indexes = load(args.indexes)
    if not indexes:
        print("no cluster index found", file=sys.stderr)
        return 1
    reqs = catalogue.load(catalogue.CLUSTER_PATH)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cluster-matrix.md").write_text(markdown(indexes, reqs), encoding="utf-8")
    (args.out / "cluster-matrix.html").write_text(html_page(indexes, reqs), encoding="utf-8")
    print(f"wrote {args.out / 'cluster-matrix.md'} and cluster-matrix.html ({len(indexes)} clusters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
