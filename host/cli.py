"""Command-line plumbing shared by every `hoverslam` subcommand.

Errors a user can cause (bad port, bad file, dead board) end as one line on
stderr and a non-zero exit; never a traceback.  The rig's commands (fly, bench,
...) are added by hil_rig.cli, which owns the `hoverslam` entry point.
"""
import argparse
import sys

from host.errors import HoverslamError

EXIT_FAIL = 1     # the run worked but the verdict is a failure
EXIT_ERROR = 2    # the run could not be done (bad input, dead link)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def make_parser(description):
    p = Parser(prog="hoverslam", description=description,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    return p, sub


def run(parser, argv=None):
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except HoverslamError as e:
        print(f"hoverslam: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hoverslam: interrupted", file=sys.stderr)
        return 130


def table(rows, headers=None):
    """Plain aligned text table."""
    rows = [[str(c) for c in r] for r in rows]
    if headers:
        rows.insert(0, list(headers))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if headers and j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
