"""The checks and their verdicts: exact, numeric, counterexamples, diagnoses."""
