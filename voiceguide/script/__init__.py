"""The routine as written: the format, the YAML loader, the typed model, the library."""
