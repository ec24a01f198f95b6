"""Matrix calculus: reverse-mode derivation, simplification, evaluation."""
