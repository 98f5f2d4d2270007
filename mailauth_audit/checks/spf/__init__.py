"""SPF (RFC 7208), one module per concern: `check` (the check and its result), `collect` (the
record fetches, through the run memo), `tree` (the include/redirect tree drawn from them),
`nodes` (the tree's node type), `evaluate` and `tree_findings` (the pure judgement),
`remediation` (corrected records to propose)."""

from .check import (
    RFC_LOOKUP_LIMIT,
    RFC_MX_NAMES_LIMIT,
    RFC_VOID_LIMIT,
    TXT_STRING_LIMIT,
    UDP_ANSWER_LIMIT,
    SpfCheck,
    SpfNode,
    SpfNodeKind,
    SpfNodeStatus,
    SpfResult,
    estimate_txt_answer_size,
    zone_txt_line,
)

__all__ = [
    "RFC_LOOKUP_LIMIT",
    "RFC_MX_NAMES_LIMIT",
    "RFC_VOID_LIMIT",
    "TXT_STRING_LIMIT",
    "UDP_ANSWER_LIMIT",
    "SpfCheck",
    "SpfNode",
    "SpfNodeKind",
    "SpfNodeStatus",
    "SpfResult",
    "estimate_txt_answer_size",
    "zone_txt_line",
]
