"""Finding and redacting likely identifiers."""
