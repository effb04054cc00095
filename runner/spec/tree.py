"""Finding the spec files under the paths given, and reading them, without ever opening what
is not a regular file.

A spec folder is walked depth first, in name order. What is found that cannot be a spec
file is a finding, never silently passed over, and never opened: a FIFO, a socket or a
device (opening a FIFO would wait for a writer forever), a symbolic link that leads
nowhere, a link that loops. Links to folders are followed, with each folder known by its
device and inode: a link to a folder that holds it (the folder walked, or any folder above
it: `..`, `/`) is a loop, and a folder reached again through a link is reported instead of
being read twice (a tree of links to links would otherwise be read an exponential number
of times). A file name that is not UTF-8, or that holds a control character (a line break
would split a finding's line, an escape sequence would drive the terminal), is shown with
those escaped (`caf\\xe9.yaml`, `a\\x1b[31m.yaml`), in every output format, and the file is
not read: the state records file names as text.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from runner.findings import Finding, file_finding
from runner.fs import FileTooLarge, NotRegularFile, describe_mode, read_regular_file

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1024 * 1024
_FolderId = tuple[int, int]
# C0 controls, DEL and C1 controls: escaped in a name shown, and a file so named not read.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def discover(
    paths: Iterable[str | Path], *, root: str
) -> tuple[list[tuple[str, str]], list[Finding]]:
    """The spec files named or found (recursively, `*.yaml`/`*.yml`) under the paths, each
    with its name: relative to `root` (an absolute path) with `/`, or as given if outside;
    and the findings about what was found that is not a spec file to read."""
    walk = _Walk(root)
    for given in paths:
        walk.given(os.fspath(given))
    # A path named and also found in a folder named is reported once.
    findings = list({(item.path, item.rule): item for item in walk.findings}.values())
    return walk.files, findings


def display_path(path: str, root: str) -> str:
    """`path` relative to the repository root with `/` separators, or as given if outside;
    bytes that are not UTF-8 escaped (`\\xe9`)."""
    absolute = os.path.abspath(path)
    if absolute.startswith(root + os.sep):
        absolute = absolute[len(root) + 1 :]
        return printable_name(absolute if os.sep == "/" else absolute.replace(os.sep, "/"))
    return printable_name(Path(path).as_posix())


def printable_name(name: str) -> str:
    """A file name as text: the bytes of a name that is not UTF-8 (which Python keeps as
    surrogates) escaped as `\\xNN`, so that every writer can print it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if _CONTROL.search(name) is None:
        return name
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", name)


def read_file(path: str, name: str) -> bytes | Finding:
    """The file's bytes, or the finding that says why there are none to check."""
    try:
        return read_regular_file(path, limit=MAX_FILE_BYTES)
    except NotRegularFile as error:
        # Replaced by a FIFO, say, since the walk saw a regular file there.
        return special_file(name, error.mode)
    except FileTooLarge:
        return file_finding(
            name,
            "file-too-large",
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; a spec is a few hundred "
            "bytes: is this the right file?",
        )
    except OSError as error:
        return file_finding(name, "unreadable", f"cannot read the file: {error.strerror}")


def special_file(name: str, mode: int) -> Finding:
    return file_finding(
        name,
        "special-file",
        f"{describe_mode(mode)}, not a regular file: lint does not open it (a spec is a "
        "regular file); remove it, or rename it so that its name does not end in .yaml",
    )


class _Walk:
    def __init__(self, root: str) -> None:
        self.root = root
        self.files: list[tuple[str, str]] = []
        self.findings: list[Finding] = []
        # Every folder walked, by (device, inode), with the name it was walked under.
        self.folders: dict[_FolderId, str] = {}
        # Links to folders, met while walking: followed once the folders themselves are
        # walked, so that a folder is read under its own name rather than a link's.
        self.links: deque[tuple[str, str, tuple[_FolderId, ...]]] = deque()

    def given(self, path: str) -> None:
        name = display_path(path, self.root)
        if "\0" in path:
            # No file's path holds one (os.stat raises ValueError): a setting's typo.
            self.findings.append(
                file_finding(name, "no-such-file", "the path holds a NUL byte: check the path")
            )
            return
        try:
            status = os.stat(path)
        except OSError as error:
            if error.errno == errno.ENOENT and os.path.islink(path):
                self._dangling(path, name)
            elif error.errno == errno.ELOOP:
                self._loop(name)
            elif error.errno in (errno.ENOENT, errno.ENOTDIR):
                self.findings.append(
                    file_finding(name, "no-such-file", "no such file or folder: check the path")
                )
            else:
                self.findings.append(
                    file_finding(name, "unreadable", f"cannot read it: {error.strerror}")
                )
            return
        if stat.S_ISDIR(status.st_mode):
            folder = (status.st_dev, status.st_ino)
            # A folder given twice, or inside one given, is read once.
            if folder not in self.folders:
                self.folders[folder] = name
                self._walk(path, (folder,))
        elif stat.S_ISREG(status.st_mode):
            self._file(path, name)
        else:
            self.findings.append(special_file(name, status.st_mode))

    def _walk(self, top: str, chain: tuple[_FolderId, ...]) -> None:
        """The tree under `top` (whose folders from the first walked are `chain`), then
        the folders its links lead to that no walk has read."""
        self._tree(top, chain)
        while self.links:
            path, name, ancestors = self.links.popleft()
            try:
                status = os.stat(path)
            except OSError:
                continue  # gone since it was listed
            folder = (status.st_dev, status.st_ino)
            if folder in ancestors:
                self._loop(name, self.folders.get(folder))
            elif _holds(path):
                self._loop(name, display_path(os.path.realpath(path), self.root))
            elif folder in self.folders:
                first = self.folders[folder]
                self.findings.append(
                    file_finding(
                        name,
                        "symlink-repeat",
                        f"a symbolic link to the folder {first}, which is read already: "
                        f"its specs are read once, as {first}/…; remove the link",
                    )
                )
            else:
                self.folders[folder] = name
                self._tree(path, (*ancestors, folder))

    def _tree(self, top: str, chain: tuple[_FolderId, ...]) -> None:
        # Depth first with a stack of its own: the files of a folder, then its folders.
        stack: list[tuple[str, tuple[_FolderId, ...]]] = [(top, chain)]
        while stack:
            folder, ancestors = stack.pop()
            # One name per folder, then each file's by concatenation: 10,000 specs.
            prefix = display_path(os.path.join(folder, "x"), self.root)[:-1]
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                self.findings.append(
                    file_finding(
                        prefix.rstrip("/") or folder,
                        "unreadable",
                        f"cannot read the folder: {error.strerror}",
                    )
                )
                continue
            below: list[tuple[str, tuple[_FolderId, ...]]] = []
            # A folder and file name of printable ASCII need no escaping nor check (`_file`):
            # the usual spec file is taken in here, anything else by `_entry` (10,000 specs).
            plain = folder.isascii() and folder.isprintable()
            for entry in entries:
                name = entry.name
                if plain and name.endswith(SPEC_SUFFIXES) and name.isascii() and name.isprintable():
                    try:
                        regular = entry.is_file(follow_symlinks=False)
                    except OSError:
                        regular = False
                    if regular:
                        self.files.append((entry.path, prefix + name))
                        continue
                found = self._entry(entry, prefix, ancestors)
                if found is not None:
                    below.append(found)
            stack.extend(reversed(below))

    def _entry(
        self, entry: os.DirEntry[str], prefix: str, ancestors: tuple[_FolderId, ...]
    ) -> tuple[str, tuple[_FolderId, ...]] | None:
        """Takes in a file or a finding; returns a folder to walk."""
        hidden = entry.name.startswith(".")
        is_spec = entry.name.endswith(SPEC_SUFFIXES)
        link = entry.is_symlink()
        try:
            if link:
                status = os.stat(entry.path)
            elif entry.is_file(follow_symlinks=False):
                if is_spec:
                    self._file(entry.path, prefix + printable_name(entry.name))
                return None
            else:
                status = entry.stat(follow_symlinks=False)
        except OSError as error:
            name = prefix + printable_name(entry.name)
            # Hidden names are not ours: `.#x.yaml` is the link an editor leaves while editing.
            if hidden:
                return None
            if error.errno == errno.ENOENT and link:
                self._dangling(entry.path, name)
            elif error.errno == errno.ELOOP:
                self._loop(name)
            elif error.errno != errno.ENOENT:
                self.findings.append(
                    file_finding(name, "unreadable", f"cannot read it: {error.strerror}")
                )
            return None
        mode = status.st_mode
        name = prefix + printable_name(entry.name)
        if stat.S_ISDIR(mode):
            if hidden:
                return None
            if link:
                self.links.append((entry.path, name, ancestors))
                return None
            folder = (status.st_dev, status.st_ino)
            if folder in self.folders:
                return None  # a folder given inside another given
            self.folders[folder] = name
            return entry.path, (*ancestors, folder)
        if stat.S_ISREG(mode):
            if is_spec:
                self._file(entry.path, name)
        elif is_spec:
            self.findings.append(special_file(name, mode))
        return None

    def _file(self, path: str, name: str) -> None:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not UTF-8 (its bytes are shown escaped)"
        else:
            if _CONTROL.search(path) is None:
                self.files.append((path, name))
                return
            problem = "holds a control character (shown escaped)"
        self.findings.append(
            file_finding(
                name, "file-name", f"the file name {problem}: it is not read; rename the file"
            )
        )

    def _dangling(self, path: str, name: str) -> None:
        try:
            target = printable_name(os.readlink(path))
        except OSError:
            target = "?"
        self.findings.append(
            file_finding(
                name,
                "symlink-dangling",
                f"a symbolic link to {target}, which does not exist: fix or remove the link",
            )
        )

    def _loop(self, name: str, target: str | None = None) -> None:
        where = f"to the folder {target}, which holds it" if target else "that leads to itself"
        self.findings.append(
            file_finding(
                name,
                "symlink-loop",
                f"a symbolic link {where}: a loop, not followed; remove the link",
            )
        )


def _holds(link: str) -> bool:
    """Whether the folder a link leads to holds the link: walking it would walk the link's
    own folder again (`..`, `/`, the repository root), a loop however far up it leads."""
    target = os.path.realpath(link)
    here = os.path.realpath(os.path.dirname(link))
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)
