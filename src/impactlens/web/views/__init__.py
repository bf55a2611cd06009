"""One module per page type, each with a Jinja template of the same name."""
