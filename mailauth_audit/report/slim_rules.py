"""What an SPF or DKIM result in a results line (format 4) leaves out because it follows
from the rest of the line: the SPF record's copies and include tree's arithmetic, a DKIM
selector's key (its record's p=) and name.

Why SPF has rules of its own: its include tree is the largest part of a line (a provider's
include is written out in every domain that uses it), and most of each node repeats its
neighbours: the root is the result's record at the result's domain, a node's
`records_found` is its one record, an include's term is `include:` and its domain, and the
lookup counts add up its children. A field is left out only when it is what its rule gives,
so the rules never lose a value: where they do not hold, the value is written.

The rules (a node's parent is None at the root):

- result `records_found`, `record_strings`: [record] when there is a record, else []
- node `domain`: the result's domain at the root, else always written
- node `record`: the result's record at the root, else null
- node `records_found`: [record] when the node has one, else []
- node `term`: null at the root; the kind when the node's domain is its parent's (`a`,
  `mx`); else kind, "=" for redirect or ":" otherwise, and the domain
- node `lookups`: the number of its children
- node `total_lookups`: 1 (0 at the root) plus its children's `total_lookups`

DKIM:

- result `selectors_probed`: the names of `selector_lists`, in order, each once
- selector `name`: `<selector>._domainkey.<the line's domain>`
- selector `public_key`: its record's p= value without whitespace, when it has a record
"""

from __future__ import annotations

from typing import Any

__all__ = ["dkim_in", "dkim_out", "put", "spf_in", "spf_out"]


def _one(record: Any) -> list[Any]:
    return [] if record is None else [record]


def _term(kind: str, domain: str, parent_domain: str | None, root: bool) -> str | None:
    if root:
        return None
    if domain == parent_domain:
        return kind
    return f"{kind}{'=' if kind == 'redirect' else ':'}{domain}"


def put(out: dict[str, Any], name: str, actual: Any, expected: Any) -> None:
    """Leave `name` out when the typed value is the rule's (tuples on this side), else
    write it, even an empty value: absent would mean the rule's."""
    if actual == expected and type(actual) is type(expected):
        out.pop(name, None)
    else:
        out[name] = actual


# ---- writing: the typed result beside its slim form ---------------------------------------


def spf_out(result: Any, out: dict[str, Any]) -> None:
    """Take out of `out` (the slim form of `result`, an SpfResult) what the rules give."""
    record = result.record
    one = () if record is None else (record,)
    put(out, "records_found", result.records_found, one)
    put(out, "record_strings", result.record_strings, one)
    tree = getattr(result, "tree", None)
    if tree is not None and type(out.get("tree")) is dict:
        _node_out(tree, out["tree"], None, result)


def _node_out(node: Any, out: dict[str, Any], parent: Any, result: Any) -> None:
    root = parent is None
    put(out, "domain", node.domain, result.domain if root else None)
    put(out, "record", node.record, result.record if root else None)
    put(out, "records_found", node.records_found, () if node.record is None else (node.record,))
    parent_domain = None if root else parent.domain
    put(out, "term", node.term, _term(str(node.kind), node.domain, parent_domain, root))
    children = node.children
    put(out, "lookups", node.lookups, len(children))
    total = (0 if root else 1) + sum(c.total_lookups for c in children)
    put(out, "total_lookups", node.total_lookups, total)
    written = out.get("children")
    if children and type(written) is list:
        for child, child_out in zip(children, written, strict=True):
            if type(child_out) is dict:
                _node_out(child, child_out, node, result)


# ---- reading: put them back before the empty values are filled in -------------------------


def spf_in(doc: Any) -> Any:
    """The slim SPF result `doc` (plain JSON) with what the rules give put back."""
    if type(doc) is not dict:
        return doc
    out = dict(doc)
    record = out.get("record")
    for name in ("records_found", "record_strings"):
        if name not in out:
            out[name] = _one(record)
    if type(out.get("tree")) is dict:
        out["tree"] = _node_in(out["tree"], None, out)
    return out


def _node_in(doc: dict[str, Any], parent: dict[str, Any] | None, result: dict[str, Any]) -> Any:
    out = dict(doc)
    root = parent is None
    if "domain" not in out and root:
        out["domain"] = result.get("domain", "")
    if "record" not in out:
        out["record"] = result.get("record") if root else None
    if "records_found" not in out:
        out["records_found"] = _one(out["record"])
    if "term" not in out and type(out.get("kind")) is str and type(out.get("domain")) is str:
        parent_domain = None if parent is None else parent.get("domain")
        out["term"] = _term(out["kind"], out["domain"], parent_domain, root)
    children = out.get("children", [])
    if type(children) is list:
        children = [_node_in(c, out, result) if type(c) is dict else c for c in children]
        if "children" in out:
            out["children"] = children
        if "lookups" not in out:
            out["lookups"] = len(children)
        if "total_lookups" not in out:
            totals = [c.get("total_lookups") if type(c) is dict else None for c in children]
            # a damaged line's odd values are left for the codec to report, not summed
            out["total_lookups"] = (0 if root else 1) + sum(t for t in totals if type(t) is int)
    return out


# ---- DKIM ---------------------------------------------------------------------------------


def _probed(lists: Any) -> tuple[str, ...]:
    """The names of the selector lists (typed), in order, each once."""
    names: dict[str, None] = {}
    for entry in lists:
        names.update(dict.fromkeys(entry.selectors))
    return tuple(names)


def _probed_json(lists: Any) -> list[str]:
    """`_probed` of a line's selector lists; a damaged line's odd values are skipped here
    and reported by the codec."""
    names: dict[str, None] = {}
    for entry in lists if type(lists) is list else ():
        selectors = entry.get("selectors") if type(entry) is dict else None
        if type(selectors) is list:
            names.update((s, None) for s in selectors if type(s) is str)
    return list(names)


def _key(record: Any) -> str | None:
    """The p= value of a DKIM record, whitespace removed (None without a record or a p=)."""
    if type(record) is not str:
        return None
    for tag in record.split(";"):
        name, eq, value = tag.partition("=")
        if eq and name.strip() == "p":
            return "".join(value.split())
    return None


def dkim_out(result: Any, out: dict[str, Any], domain: str) -> None:
    """Take out of `out` (the slim form of `result`, a DkimResult) what the rules give."""
    put(out, "selectors_probed", result.selectors_probed, _probed(result.selector_lists))
    written = out.get("selectors")
    if not result.selectors or type(written) is not list:
        return
    for sel, sel_out in zip(result.selectors, written, strict=True):
        if type(sel_out) is dict:
            put(sel_out, "name", sel.name, f"{sel.selector}._domainkey.{domain}")
            put(sel_out, "public_key", sel.public_key, _key(sel.record))


def dkim_in(doc: Any, domain: str) -> Any:
    """The slim DKIM result `doc` (plain JSON) with what the rules give put back."""
    if type(doc) is not dict:
        return doc
    out = dict(doc)
    if "selectors_probed" not in out:
        out["selectors_probed"] = _probed_json(out.get("selector_lists"))
    selectors = out.get("selectors")
    if type(selectors) is list:
        dense = []
        for sel in selectors:
            if type(sel) is dict:
                sel = dict(sel)
                if "name" not in sel:
                    sel["name"] = f"{sel.get('selector')}._domainkey.{domain}"
                if "public_key" not in sel:
                    sel["public_key"] = _key(sel.get("record"))
            dense.append(sel)
        out["selectors"] = dense
    return out
