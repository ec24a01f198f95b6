"""``symbolic-bp``: the command line.  A thin edge over the command table.

The commands themselves are modules of their own (:mod:`.commands` names
them; ``check``: :mod:`.check_command`, ``report``: :mod:`.report_command`...),
the options they share are in :mod:`.options`.

Exit status of ``check``: 0 verified, 1 refuted, 2 invalid input,
3 undecided.  ``report``: 0 when every verdict is the expected one, 1
otherwise, 2 when a file is unreadable.

>>> build_parser(["extract", "notes.md"]).parse_args(["extract", "notes.md"]).files
['notes.md']

A value of a claim-language option may start with a minus sign, as users
type it (``--claim -a``; see :func:`.options.glue_expressions`):

>>> command_words(["check", "--cost", "x.T @ a", "--claim", "-a"])
['check', '--cost', 'x.T @ a', '--claim=-a']
"""
from __future__ import annotations

import argparse
import sys

from .commands import COMMANDS
from .options import glue_expressions


class _Parser(argparse.ArgumentParser):
    def error(self, message):       # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named in ``argv`` gets its arguments (and
    its module imported), so that ``symbolic-bp extract`` does not load SymPy."""
    words = sys.argv[1:] if argv is None else argv
    chosen = next((w for w in words if not w.startswith("-")), None)
    parser = _Parser(prog="symbolic-bp", description="Verify hand-derived backpropagation gradients.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help)
        if name == chosen:
            command.load()[0](p)
    return parser


def command_words(words: list[str], parser: argparse.ArgumentParser | None = None) -> list[str]:
    """``words`` as argparse must see them: after the command's name, each
    expression option joined to its value (``--claim -a`` -> ``--claim=-a``),
    so that a value starting with ``-`` is not taken for an option."""
    parser = parser or build_parser(words)
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    at = next((i for i, w in enumerate(words) if not w.startswith("-")), None)
    if sub is None or at is None or words[at] not in sub.choices:
        return list(words)
    return words[:at + 1] + glue_expressions(sub.choices[words[at]], words[at + 1:])


def main(argv: list[str] | None = None) -> int:
    """Run ``symbolic-bp ARGV``; the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args = parser.parse_args(command_words(words, parser))
    try:
        return COMMANDS[args.command].load()[1](args)
    except KeyboardInterrupt:
        print("symbolic-bp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
