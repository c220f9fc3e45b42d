"""The catalog's rules in plain Python, so they run (and are tested) without any I/O."""
