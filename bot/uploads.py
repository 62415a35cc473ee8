"""Staff uploads outside the Streamlit app: a file's bytes parsed as the corpus loader would read
``corpus/uploads/<name>``, kept there after it is indexed (so a full rebuild keeps it), and deleted
when its document is removed. The documents page (``ui.py``) uses these too.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .documents import Skipped, read_file
from .records import Document

UPLOADS = "uploads"


def upload_name(name: str) -> str:
    """A safe file name for an upload (no folders, no leading dots)."""
    cleaned = re.sub(r"[^\w.\-]+", "_", Path(name).name).lstrip("._")
    return cleaned or "upload.txt"


def parse_upload(name: str, data: bytes) -> tuple[list[Document], list[Skipped]]:
    """Documents and skipped lines of an uploaded file; ``BadDocument`` when it cannot be read."""
    with tempfile.TemporaryDirectory(prefix="bot-upload-") as folder:
        path = Path(folder) / UPLOADS / upload_name(name)
        path.parent.mkdir()
        path.write_bytes(data)
        return read_file(path, folder)


def save_upload(corpus_dir: Path, name: str, data: bytes) -> Path:
    """Keep an added upload in ``corpus/uploads/``."""
    path = Path(corpus_dir) / UPLOADS / upload_name(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def delete_upload(corpus_dir: Path, document: Document) -> bool:
    """Delete the corpus file of a removed document when it was an upload of one document;
    True if deleted."""
    if not (document.path or "").startswith(UPLOADS + "/"):
        return False
    path = (Path(corpus_dir) / document.path).resolve()
    if path.parent != (Path(corpus_dir) / UPLOADS).resolve() or not path.is_file():
        return False
    if path.suffix.lower() == ".jsonl":
        return False  # one file may hold several documents: leave it to a person
    path.unlink()
    return True
