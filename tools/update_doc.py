"""Replace the text between `<!-- NAME -->` and `<!-- /NAME -->` in a doc with a command's output.

Usage: python tools/update_doc.py DOC NAME COMMAND...
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run the command, splice its stdout into the doc between the markers."""
    doc, name, command = argv[0], argv[1], argv[2:]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    with open(doc) as f:
        text = f.read()
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(doc, "w") as f:
        f.write(f"{head}{start}\n{output}{end}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
