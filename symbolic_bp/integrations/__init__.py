"""The edges: command line, pytest plugin, testing helpers, fuzzing."""
