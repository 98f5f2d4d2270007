"""One module per schema revision, oldest first (connect.REVISIONS lists them)."""
