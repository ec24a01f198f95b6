"""The operations, declared once, and the expression trees they build."""
