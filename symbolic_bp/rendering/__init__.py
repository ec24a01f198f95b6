"""What results look like: LaTeX proofs, the report, Markdown."""
