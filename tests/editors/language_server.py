"""The real yaml-language-server (tests/editors/package.json pins it), spoken to over the
Language Server Protocol on its standard input and output, as an editor does.

It is installed once per version with `npm ci` into the user's cache folder, outside the
repository, and reused by later runs.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent
VERSION = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["dependencies"][
    "yaml-language-server"
]
TIMEOUT = 30.0


def install() -> Path:
    """The server's script, installed from the lock file if it is not yet."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "personalize-runner-tests" / f"yaml-language-server-{VERSION}"
    script = folder / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if not script.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / name, folder / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return script


class LanguageServer:
    """One server for a workspace folder, with the `yaml` settings given."""

    def __init__(self, script: Path, root: Path, settings: dict[str, Any]) -> None:
        self.root = root
        self.settings = {"yaml": {"validate": True, "hover": True, **settings}}
        self.process = subprocess.Popen(
            ["node", str(script), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.next_id = 1
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {
                    "workspace": {"configuration": True},
                    "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}},
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": self.settings})

    def __enter__(self) -> LanguageServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            self.messages.put(json.loads(stream.read(length)))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        ident = self.next_id
        self.next_id += 1
        self._send({"id": ident, "method": method, "params": params})
        return self._wait(lambda message: message.get("id") == ident).get("result")

    def _wait(self, wanted: Any) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self.messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if message is None:
                raise RuntimeError("yaml-language-server stopped")
            if "method" in message and "id" in message:
                # A request of the server's own: its settings, or a registration.
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [
                        self.settings.get(item.get("section", ""), self.settings)
                        for item in message["params"]["items"]
                    ]
                self._send({"id": message["id"], "result": result})
            elif wanted(message):
                return message

    def open(self, path: Path) -> list[tuple[int, str]]:
        """Opens the file as an editor does; the diagnostics, as (1-based line, message)."""
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "yaml",
                    "version": 1,
                    "text": path.read_text(encoding="utf-8"),
                }
            },
        )
        published = self._wait(
            lambda message: (
                message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri
            )
        )
        return sorted(
            (item["range"]["start"]["line"] + 1, item["message"])
            for item in published["params"]["diagnostics"]
        )

    def hover(self, path: Path, line: int, column: int = 1) -> str | None:
        """What a hover at the 1-based place shows (Markdown), or None."""
        result = self.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": path.as_uri()},
                "position": {"line": line - 1, "character": column - 1},
            },
        )
        if result is None:
            return None
        value: str = result["contents"]["value"]
        return value
