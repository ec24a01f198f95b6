"""The one exception type that user input can raise.

Every message is a single line that names where the problem is (file, key,
column) so that the CLI can print it as is and exit with status 2.
"""
from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a parse error, an unknown name, a shape mismatch...

    ``where`` is prepended when the error travels outwards (expression column
    -> claim key -> file), so the final message reads
    ``derivations/post.toml: claim 'x' (cost): column 7: unknown name 'B'``.

    >>> e = InputError("column 3: unexpected ')'")
    >>> str(e.within("cost"))
    "cost: column 3: unexpected ')'"
    """

    def within(self, where: str) -> "InputError":
        """Return a copy of this error prefixed with ``where: ``."""
        return InputError(f"{where}: {self}")
