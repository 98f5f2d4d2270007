"""Remediation as one change set per DNS name, applied to a zone file and audited again.

`merge` combines the typed changes of every finding (pure); `zone` applies a change set to
zone-file text line by line (pure); `runner` audits, applies and re-audits; `render` presents
the result. The CLI reaches this package through the facade (`asyncapi.fix_domain`).
"""
