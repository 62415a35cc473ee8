"""Which entries of a corpus folder are opened, and the names they are shown and stored by.

Only regular files inside the folder are read: a symbolic link is followed only when its target
stays inside (and is not a loop or dangling), symlinked folders are not entered, and FIFOs,
sockets and devices are reported without being opened (opening a FIFO blocks). File names that
are not UTF-8 keep their bytes visible (``caf\\xe9.txt``) so that nothing later fails to print or
to write them.
"""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

# Characters that would break a one-line report or a UTF-8 file when printed: controls, bidi
# overrides and lone surrogates (a byte of a non-UTF-8 file name, or a JSON "\\ud800" escape).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True)
class Skipped:
    """A corpus file (or one line of it) that was not read, and why. Both fields are made
    printable on construction, so a report line can always be printed and stays one line."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", printable(self.path))
        object.__setattr__(self, "reason", printable(self.reason))


def printable(text: str) -> str:
    """``text`` with controls, bidi overrides and lone surrogates escaped (``\\x0a``); a byte of
    a non-UTF-8 file name (kept by Python as a surrogate) shows as that byte (``caf\\xe9.txt``)."""
    def escape(match: re.Match) -> str:
        code = ord(match.group())
        if 0xDC80 <= code <= 0xDCFF:
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return _UNPRINTABLE.sub(escape, text)


def display_path(path: Path, root: Path) -> str:
    """The corpus-relative path as it is shown and stored (ids, ``documents.jsonl``): printable
    UTF-8 even when the file system name is not."""
    return printable(path.relative_to(root).as_posix())


def corpus_files(root: Path, suffixes: set[str]) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """The files below ``root`` (resolved) with one of ``suffixes`` (README and ATTRIBUTION
    files aside), as (path, display path) in path order,
    and the entries refused without being opened: symbolic links that leave the folder, loop or
    dangle, symlinked folders (not followed), FIFOs, sockets and devices (a FIFO would block)."""
    files: list[Path] = []
    refused: list[Skipped] = []

    def unlistable(error: OSError) -> None:
        refused.append(Skipped(display_path(Path(error.filename), root) if error.filename else ".",
                               f"folder cannot be listed ({error.strerror})"))

    for folder, subfolders, names in os.walk(root, onerror=unlistable):
        for name in sorted(subfolders):
            path = Path(folder, name)
            if path.is_symlink():
                inside = _inside(path, root)
                refused.append(Skipped(display_path(path, root), "symbolic link to a folder: not followed"
                                       + ("" if inside else " (it points outside the corpus folder)")))
        for name in names:
            path = Path(folder, name)
            reason = _refusal(path, root)
            if reason:
                refused.append(Skipped(display_path(path, root), reason))
            elif path.suffix.lower() in suffixes and not name.upper().startswith(("ATTRIBUTION", "README")):
                files.append(path)
    refused.sort(key=lambda skipped: skipped.path)
    return [(path, display_path(path, root)) for path in sorted(files)], refused


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def _refusal(path: Path, root: Path) -> str | None:
    """Why ``path`` must not be opened, or None for a regular file (or a link to one) inside
    ``root``."""
    try:
        status = os.lstat(path)
        if stat.S_ISLNK(status.st_mode):
            try:
                target = path.resolve(strict=True)
            except RuntimeError:  # Python 3.11 reports a loop this way
                return "symbolic link loop: not followed"
            except FileNotFoundError:
                return "dangling symbolic link (its target does not exist)"
            except OSError as exc:
                return ("symbolic link loop: not followed" if exc.errno == errno.ELOOP
                        else f"symbolic link cannot be followed ({exc.strerror})")
            if not target.is_relative_to(root):
                return "symbolic link pointing outside the corpus folder: not followed"
            status = os.stat(target)
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    kind = _special_kind(status.st_mode)
    return f"{kind}, not a regular file: not opened" if kind else None


def _special_kind(mode: int) -> str | None:
    for test, kind in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "a special file"
