"""The table of ``symbolic-bp`` commands: name -> help line and the module
that implements it.  A module is imported only when its command is used
(``symbolic-bp extract`` does not load SymPy), so the table names modules,
never imports them.

Every command module defines ``COMMAND = (add_arguments(parser), run(args) ->
exit status)``; a new command registers here with one line.

>>> sorted(COMMANDS)
['check', 'extract', 'fuzz', 'latex', 'network', 'report', 'serve', 'step']
>>> add_arguments, run = COMMANDS["extract"].load()
>>> run.__name__
'cmd_extract'
"""
from __future__ import annotations

import importlib
from typing import Callable, NamedTuple


class Command(NamedTuple):
    """One command: its help line and the module that defines its ``COMMAND``."""

    help: str
    module: str

    def load(self) -> tuple[Callable, Callable]:
        """(add_arguments, run), importing the module on first use."""
        return importlib.import_module(self.module).COMMAND


COMMANDS: dict[str, Command] = {
    "check": Command("check one gradient claim", "symbolic_bp.integrations.check_command"),
    "report": Command("check derivation files (default: the bundled derivations/)",
                      "symbolic_bp.integrations.report_command"),
    "step": Command("check one line of a derivation against the line before it",
                    "symbolic_bp.integrations.step_command"),
    "extract": Command("find the claims of a Markdown/LaTeX document, write a derivation file",
                       "symbolic_bp.integrations.extract_command"),
    "network": Command("gradients of a layered network three ways; check delta/gradient claims",
                       "symbolic_bp.integrations.network_command"),
    "fuzz": Command("hostile input against every entry point; print the figures (crashed/executed must be 0)",
                    "symbolic_bp.integrations.fuzz_command"),
    "latex": Command("write the proofs of derivation files as one LaTeX document (--pdf: compile it)",
                     "symbolic_bp.integrations.latex_command"),
    "serve": Command("the web page and its JSON API on this computer", "symbolic_bp.integrations.serve_command"),
}
