"""STARTTLS on every MX address (RFC 3207, RFC 8314's view of opportunistic TLS)."""
