"""roi layer."""
