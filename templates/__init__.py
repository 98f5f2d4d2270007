"""Jinja2 templates of the HTML report; installed as the package `mailauth_audit.templates`."""
