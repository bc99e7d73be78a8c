"""nginx configuration read as nginx reads it (directives, their arguments and blocks), for tests.

Enough of nginx's grammar for deploy/nginx.conf: comments, quoted strings, `;` and `{ }`. A
directive left without its `;` or a brace left open is a ValueError, as `nginx -t` would
refuse it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
TOKEN = re.compile(r"""#[^\n]*|'([^']*)'|"([^"]*)"|([{};])|([^\s{};'"#]+)""")


@dataclass
class Directive:
    """One directive: `name args...;` or `name args... { block }`."""

    name: str
    args: list[str]
    block: list[Directive] | None = field(default=None, repr=False)

    def children(self, name: str) -> list[Directive]:
        """The directives named `name` directly inside this block."""
        return [d for d in self.block or [] if d.name == name]

    def child(self, name: str) -> Directive:
        """The one directive named `name` directly inside this block."""
        found = self.children(name)
        assert len(found) == 1, f"{len(found)} {name!r} in {self.name} {' '.join(self.args)}"
        return found[0]

    def arg(self, name: str) -> str:
        """The arguments of the one directive `name` here, joined by spaces."""
        return " ".join(self.child(name).args)


def parse(text: str) -> Directive:
    """The whole file as the block of a directive named `main`."""
    stack = [Directive("main", [], [])]
    words: list[str] = []
    for match in TOKEN.finditer(text):
        quoted1, quoted2, punct, word = match.groups()
        if match.group().startswith("#"):
            continue
        if punct is None:
            words.append(next(w for w in (quoted1, quoted2, word) if w is not None))
        elif punct == "}":
            if words or len(stack) == 1:
                raise ValueError(f"unexpected '}}' after {words}")
            stack.pop()
        else:
            if not words:
                raise ValueError(f"unexpected {punct!r}")
            directive = Directive(words[0], words[1:], [] if punct == "{" else None)
            assert stack[-1].block is not None
            stack[-1].block.append(directive)
            if punct == "{":
                stack.append(directive)
            words = []
    if words or len(stack) != 1:
        raise ValueError("the file ends inside a directive or a block")
    return stack[0]


def local_nginx_conf(folder: Path, upstream: str, http_port: int, https_port: int) -> Path:
    """deploy/nginx.conf to run here: `web:8000` → `upstream`, these ports, files in `folder`.

    A self-signed certificate is made in `folder`, as deploy/nginx-start.sh does without one.
    """
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)
    text = NGINX_CONF.read_text()
    for old, new in (("server web:8000;", f"server {upstream};"),
                     ("listen 80 ", f"listen 127.0.0.1:{http_port} "),
                     ("listen 443 ", f"listen 127.0.0.1:{https_port} "),
                     ("/etc/nginx/tls/", f"{folder}/"),
                     ("pid /run/nginx.pid;", f"pid {folder}/nginx.pid;"),
                     ("access_log /dev/stdout;", f"access_log {folder}/access.log;"),
                     ("error_log /dev/stderr warn;", f"error_log {folder}/error.log warn;")):
        assert old in text, old
        text = text.replace(old, new)
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf
