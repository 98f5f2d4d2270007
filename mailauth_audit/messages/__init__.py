"""Messages: compose, DKIM sign/verify, SMTP send, SMTP receive, message verification."""
