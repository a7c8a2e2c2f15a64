"""Sans-IO request builders and response parsers, one module per family of operations."""
