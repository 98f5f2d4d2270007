"""The TLSA record to publish: computed from the certificate the MX presents now."""

from __future__ import annotations

from .result import DaneHost

PLACEHOLDER = "3 1 1 <SHA-256 of the certificate's public key>"


def suggested_record(host: DaneHost) -> str:
    """`3 1 1 <hex>` of the leaf an address of the host presented (the first one that did),
    else a placeholder saying what to hash."""
    for address in host.addresses:
        if address.leaf_tlsa:
            return address.leaf_tlsa
    return PLACEHOLDER


def zone_line(host: DaneHost) -> str:
    return f"{host.tlsa_name}. IN TLSA {suggested_record(host)}"
