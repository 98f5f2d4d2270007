"""Audit history: every audit remembered (SQLite by default, PostgreSQL for teams), diffs
between audits and runs, drift detectors and alerts.

The CLI reaches it through the facade (`mailauth_audit.asyncapi`), never directly.
"""
