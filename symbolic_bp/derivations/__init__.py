"""Derivation files, chains of steps, claims extracted from documents."""
