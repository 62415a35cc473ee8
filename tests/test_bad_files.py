"""Ingest never dies of one file: a corpus folder of 60+ bad files, built here at test time from
the real format fixtures and real Korean articles, is read and ingested; every bad file is
skipped with its reason, the good and the merely awkward ones are indexed under safe ids.

The bad files: real HWP, HWPX, PDF and DOCX files truncated at several offsets, zip bombs and
lying zip headers, an HWP deflate bomb and record bomb, a document over the length limit,
deep JSON nesting, invalid bytes, unsupported escape encodings, non-UTF-8 names, symbolic links
out of the folder, in a loop or dangling, a FIFO and a socket, empty files and duplicates.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import socket
import struct
import subprocess
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import olefile
import pytest

from bot import limits
from bot.corpus_files import Skipped, printable
from bot.documents import MAX_JSON_DEPTH, decode, doc_id_from_path, json_depth, load_corpus, parse_jsonl, read_file
from bot.errors import BadDocument
from bot.formats import READERS, hwp

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT.parent / "shared" / "data" / "formats"
ARTICLES = ROOT / "corpus" / "kowikinews" / "articles.jsonl"
SEED = ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt"
MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(not FORMATS.is_dir(), reason=f"format fixtures not found at {FORMATS}")


@dataclass
class BadCorpus:
    """The folder, what each bad entry's skip reason must say, and the ids that must be indexed."""

    folder: Path
    bad: dict[str, str] = field(default_factory=dict)  # display path -> fragment of the reason
    good: dict[str, str] = field(default_factory=dict)  # doc id -> a sentence of its text


def _articles() -> list[dict]:
    return [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()[:12]]


def _copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)  # copyfile: the fixtures are read-only, the copies need not be
    return target


def _repackage(template: Path, target: Path, member: str, chunks) -> None:
    """A copy of a zip package with ``member`` replaced by the streamed ``chunks``."""
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            if info.filename != member:
                package.writestr(info, source.read(info))
        with package.open(member, "w", force_zip64=True) as stream:
            for chunk in chunks:
                stream.write(chunk)


def _repeated(head: bytes, unit: bytes, size: int, tail: bytes):
    yield head
    block = unit * (MIB // len(unit))
    for _ in range(size // len(block)):
        yield block
    yield tail


def _lie_about_size(path: Path, member: str, declared: int) -> None:
    """Rewrite the uncompressed size of ``member`` in its local header and the central directory
    (the data and its CRC stay): a header that lies about how much the member unpacks to."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        offset = package.getinfo(member).header_offset
    struct.pack_into("<I", data, offset + 22, declared)
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46:position + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, position + 24, declared)
        position = data.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(data))


def _replace_stream(path: Path, stream: str, payload: bytes) -> None:
    """Overwrite an OLE stream of an HWP in place (olefile writes streams of the same size only)."""
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = ole.get_size(stream)
        assert len(payload) <= size
        ole.write_stream(stream, payload + b"\0" * (size - len(payload)))


def _deflated(chunks) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b"".join(compressor.compress(chunk) for chunk in chunks) + compressor.flush()


def build_bad_corpus(folder: Path) -> BadCorpus:
    """Write the corpus: good files, awkward-but-readable files and 60+ bad files."""
    corpus = BadCorpus(folder)
    folder.mkdir()
    articles = _articles()
    outside = folder.parent / "outside"
    outside.mkdir()

    def bad(name: str | bytes, content: bytes | None, reason: str) -> Path:
        path = folder / (os.fsdecode(name) if isinstance(name, bytes) else name)
        if content is not None:
            path.write_bytes(content)
        corpus.bad[printable(path.relative_to(folder).as_posix())] = reason
        return path

    def article_text(number: int) -> str:
        return f"{articles[number]['title']}\n\n{articles[number]['text']}"

    def first_sentence(text: str) -> str:
        return text.split("\n")[-1].split(". ")[0]

    # --- good: a real press article, three Wikinews articles, a real HWP, HWPX and DOCX
    _copy(SEED, folder / SEED.name)
    corpus.good["gwangju-gilab-mou-2020-11"] = "광주형 인공지능 첫 합작회사"
    (folder / "news.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles[:3]),
                                       encoding="utf-8")
    for article in articles[:3]:
        corpus.good[article["id"]] = first_sentence(article["text"])
    for name, sentence in (("noori.hwp", "약 6,300여명의 국민이 참여하여"),
                           ("mot.hwpx", "진천 국가대표 선수촌"), ("sample-word-document.docx", "벡터스토어")):
        _copy(FORMATS / name, folder / name)
        corpus.good[name] = sentence

    # --- awkward but readable: each must be indexed under a printable id, its text intact
    korean = article_text(3)
    (folder / "iso-2022-kr.txt").write_bytes(korean.encode("iso2022_kr"))
    corpus.good["iso-2022-kr"] = first_sentence(korean)
    utf16 = article_text(4)
    (folder / "utf-16-bom.txt").write_bytes(utf16.encode("utf-16"))
    corpus.good["utf-16-bom"] = first_sentence(utf16)
    cp949_name = article_text(5)
    (folder / os.fsdecode("광주-cp949.txt".encode("cp949"))).write_text(cp949_name, encoding="utf-8")
    corpus.good[r"\xb1\xa4\xc1\xd6-cp949"] = first_sentence(cp949_name)
    newline_name = article_text(6)
    (folder / "line\nbreak.txt").write_text(newline_name, encoding="utf-8")
    corpus.good[r"line\x0abreak"] = first_sentence(newline_name)
    escapes = dict(articles[7], id="surrogate-\ud800-id", title="제목 \udc00")
    (folder / "surrogates.jsonl").write_text(json.dumps(escapes), encoding="utf-8")  # ASCII \ud800 escapes
    corpus.good["surrogate--id"] = first_sentence(articles[7]["text"])

    # --- truncated real files: containers cut before their directory, sections cut short
    for name in ("noori.hwp", "distribution.hwp", "mot.hwpx", "moef-2024q1-odi.pdf", "sample-word-document.docx"):
        raw = (FORMATS / name).read_bytes()
        for offset in (1, 100, 4000, len(raw) // 4, len(raw) // 2):
            bad(f"truncated-{offset}-{name}", raw[:offset], "")
    bad("truncated-by-one-byte-distribution.hwp", (FORMATS / "distribution.hwp").read_bytes()[:-1], "damaged")
    bad("truncated-by-1000-noori.hwp", (FORMATS / "noori.hwp").read_bytes()[:-1000], "damaged")

    # --- bombs: declared sizes refused from the zip directory, lying headers, deflate bombs
    xml_unit = b'<w:p><w:r><w:t>' + "광주".encode() + b"</w:t></w:r></w:p>"
    _repackage(FORMATS / "sample-word-document.docx", bad("zip-bomb.docx", None, "zip bomb"), "word/document.xml",
               _repeated(b'<?xml version="1.0"?><w:document>', xml_unit, 300 * MIB, b"</w:document>"))
    section_unit = b'<hp:p><hp:run><hp:t>' + "광주".encode() + b"</hp:t></hp:run></hp:p>"
    section_head = (b'<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
                    b'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">')
    _repackage(FORMATS / "mot.hwpx", bad("zip-bomb.hwpx", None, "zip bomb"), "Contents/section0.xml",
               _repeated(section_head, section_unit, 100 * MIB, b"</hs:sec>"))
    lying = bad("lying-header.docx", None, "crc")
    _repackage(FORMATS / "sample-word-document.docx", lying, "word/document.xml",
               _repeated(b'<?xml version="1.0"?><w:document>', xml_unit, 20 * MIB, b"</w:document>"))
    _lie_about_size(lying, "word/document.xml", 1000)
    lying = bad("lying-header.hwpx", None, "crc")
    _repackage(FORMATS / "mot.hwpx", lying, "Contents/section0.xml",
               _repeated(section_head, section_unit, 20 * MIB, b"</hs:sec>"))
    _lie_about_size(lying, "Contents/section0.xml", 1000)
    long_run = b"<hp:p><hp:run><hp:t>" + b"A" * 100_000 + b"</hp:t></hp:run></hp:p>"
    _repackage(FORMATS / "mot.hwpx", bad("too-many-characters.hwpx", None, "characters"), "Contents/section0.xml",
               _repeated(section_head, long_run, 3 * MIB, b"</hs:sec>"))
    nested = b"<hp:p><hp:run><hp:rect><hp:drawText><hp:subList>"
    closing = b"</hp:subList></hp:drawText></hp:rect></hp:run></hp:p>"
    _repackage(FORMATS / "mot.hwpx", bad("deeply-nested.hwpx", None, "excessive depth"), "Contents/section0.xml",
               [section_head, nested * 5000, b"</hs:sec>"])
    _repackage(FORMATS / "mot.hwpx", bad("nested-text-boxes.hwpx", None, "damaged"), "Contents/section0.xml",
               [section_head, nested * 350, closing * 350, b"</hs:sec>"])  # under libxml2's depth limit, over Python's
    with zipfile.ZipFile(bad("ten-thousand-members.hwpx", None, "zip members"), "w") as package:
        for number in range(limits.MAX_ZIP_MEMBERS + 1):
            package.writestr(f"Contents/part{number}.xml", b"")
    with zipfile.ZipFile(bad("zip-without-sections.hwpx", None, "no contents/section"), "w") as package:
        package.writestr("mimetype", "application/hwp+zip")
    with zipfile.ZipFile(bad("zip-not-docx.docx", None, ""), "w") as package:
        package.writestr("hello.txt", "안녕하세요")
    bomb = _copy(FORMATS / "digital-gov-innovation-plan-2019.hwp", bad("deflate-bomb.hwp", None, "deflate bomb"))
    _replace_stream(bomb, "BodyText/Section0", _deflated(b"\0" * MIB for _ in range(40)))
    records = _copy(FORMATS / "moef-2024q1-odi.hwp", bad("record-bomb.hwp", None, "records"))
    _replace_stream(records, "BodyText/Section0", _deflated(b"\0" * MIB for _ in range(5)))  # 1.3M empty records

    # --- text: too long, too big, invalid bytes, encodings that cannot be decoded
    bad("too-long.txt", ("가나다라마바사 " * 300_000).encode(), "characters")
    with open(bad("over-50-mb.txt", None, "byte limit"), "wb") as handle:
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    bad("too-much-html.html", b"<html><body>" + b"<p>a</p>" * 700_000 + b"</body></html>", "characters of html")
    rng = random.Random(20)
    bad("random-bytes.txt", rng.randbytes(4096), "not utf-8")
    bad("random-bytes.md", bytes(rng.randrange(0x80, 0x100) for _ in range(4096)), "not utf-8")
    bad("nul-bytes.txt", b"\x00\x01\x02\xff garbage \x00", "not utf-8")
    bad("random-bytes.hwp", rng.randbytes(8192), "not an hwp")
    bad("fake-ole-header.hwp", bytes.fromhex("d0cf11e0a1b11ae1") + rng.randbytes(4096), "")
    bad("random-bytes.pdf", b"%PDF-1.7\n" + rng.randbytes(4096), "pdf")
    bad("random-bytes.docx", rng.randbytes(4096), "docx")
    bad("random-bytes.hwpx", rng.randbytes(4096), "hwpx")
    bad("iso-2022-cn.txt", b"\x1b$)A\x0e=;\x0f", "iso-2022-cn")
    bad("broken-iso-2022-kr.txt", b"\x1b$)C\x0e\x7f\x7f\x7f\x0f", "iso2022_kr")
    bad("broken-utf-16.txt", b"\xff\xfe" + "광주".encode("utf-16-le") + b"\x00", "utf-16")
    bad(b"invalid-name-\xff\xfe.txt", rng.randbytes(2048), "not utf-8")
    bad(b"invalid-name-\xc0.hwp", b"", "")
    bad("\u202eevil-bidi.txt", b"", "empty")

    # --- JSON lines: every line bad (the lines are reported as name:line)
    bad("deep-nesting.jsonl:1", None, "nested")
    (folder / "deep-nesting.jsonl").write_text("[" * 100_000, encoding="utf-8")
    bad("deep-text.jsonl:1", None, "nested")
    (folder / "deep-text.jsonl").write_text('{"id": "x", "title": "t", "text": ' + "[" * 40 + "]" * 40 + "}",
                                            encoding="utf-8")
    bad("not-text.jsonl:1", None, "text: not a string")
    (folder / "not-text.jsonl").write_text(json.dumps({"id": "y", "title": "t", "text": {"a": 1}}), encoding="utf-8")
    bad("huge-line.jsonl:1", None, "characters")
    (folder / "huge-line.jsonl").write_text(json.dumps({"id": "z", "title": "t", "text": "가" * 2_100_000}),
                                            encoding="utf-8")
    bad("mixed.jsonl:1", None, "not json")
    bad("mixed.jsonl:2", None, "not a json object")
    bad("mixed.jsonl:3", None, "missing")
    (folder / "mixed.jsonl").write_text('{broken\n[1, 2]\n{"id": "w", "title": "", "text": "본문"}', encoding="utf-8")
    bad("zz-duplicate-id.jsonl", None, "duplicate document id")
    (folder / "zz-duplicate-id.jsonl").write_text(json.dumps(articles[0], ensure_ascii=False), encoding="utf-8")

    # --- empty files of every format
    for name in ("empty.txt", "empty.md", "empty.html", "empty.jsonl", "empty.hwp", "empty.hwpx",
                 "empty.pdf", "empty.docx"):
        bad(name, b"", "")
    bad("whitespace.txt", b" \n\t\r\n ", "empty")
    bad("controls-only.md", b"\x01\x02\x03\x1b\x7f", "empty")

    # --- duplicates: the same text under another name, the same release in another format
    _copy(SEED, bad("zz-copy-of-seed.txt", None, f"same text as {SEED.name}"))  # the first in path order is kept
    _copy(FORMATS / "noori.html", bad("noori.html", None, "same release as noori.hwp"))

    # --- links and special files: never followed out of the folder, never opened
    (outside / "secret.txt").write_text(article_text(8), encoding="utf-8")
    os.symlink(outside / "secret.txt", bad("link-out-of-corpus.txt", None, "outside the corpus"))
    os.symlink("/etc/passwd", bad("passwd.txt", None, "outside the corpus"))
    os.symlink("/dev/zero", bad("zero.txt", None, "outside the corpus"))
    os.symlink(outside, bad("linked-folder", None, "folder: not followed"))
    os.symlink("loop.txt", bad("loop.txt", None, "loop"))
    os.symlink("ping.md", bad("pong.md", None, "loop"))
    os.symlink("pong.md", bad("ping.md", None, "loop"))
    os.symlink("no-such-file.txt", bad("dangling.txt", None, "dangling"))
    os.symlink(SEED.name, bad("link-inside.txt", None, f"same text as {SEED.name}"))
    os.mkfifo(bad("fifo.txt", None, "fifo"))
    with socket.socket(socket.AF_UNIX) as unix_socket:
        unix_socket.bind(str(bad("socket.txt", None, "socket")))
    return corpus


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> BadCorpus:
    return build_bad_corpus(tmp_path_factory.mktemp("bad") / "corpus")


@pytest.fixture(scope="module")
def loaded(bad_corpus):
    """``load_corpus`` of the bad corpus (documents, skipped), read once for the module."""
    return load_corpus(bad_corpus.folder)


def test_the_fixture_has_sixty_bad_files(bad_corpus):
    files = {name.split(":")[0] for name in bad_corpus.bad}
    assert len(files) >= 60
    assert len(bad_corpus.good) >= 10


def test_every_bad_file_is_skipped_with_its_reason_and_the_rest_is_read(bad_corpus, loaded):
    documents, skipped = loaded
    reasons = {entry.path: entry.reason for entry in skipped}
    for name, fragment in bad_corpus.bad.items():
        assert name in reasons, f"{name} was not reported"
        assert fragment.lower() in reasons[name].lower(), f"{name}: {reasons[name]}"
    by_id = {doc.doc_id: doc for doc in documents}
    assert set(by_id) == set(bad_corpus.good)
    for doc_id, sentence in bad_corpus.good.items():
        assert sentence in by_id[doc_id].text, doc_id


def test_every_report_line_prints_as_one_utf8_line(loaded):
    _, skipped = loaded
    for entry in skipped:
        line = f"skipped {entry.path}: {entry.reason}"
        assert "\n" not in line and "\r" not in line and "\u202e" not in line
        line.encode("utf-8")  # no lone surrogate left


# --- the limits one at a time -------------------------------------------------------------------

def test_deep_json_is_refused_before_the_parser_recurses():
    line = "[" * 100_000 + "]" * 100_000
    assert json_depth(line) == 100_000
    assert json_depth('{"text": "' + "[" * 500 + '"}') == 1  # brackets inside a string do not nest
    assert json_depth('"' + '\\"' * 1_000_000 + "[" * 40) == 0  # one unclosed string: linear, no backtracking
    documents, skipped = parse_jsonl(line + '\n{"id": "a", "title": "제목", "text": "본문"}', "deep.jsonl")
    assert [d.doc_id for d in documents] == ["a"]
    assert skipped == [Skipped("deep.jsonl:1", f"JSON nested 100000 levels deep (the limit is {MAX_JSON_DEPTH})")]


def test_iso_2022_kr_is_decoded_never_mojibake():
    text = "광주광역시는 인공지능 합작회사와 협약을 맺었다."
    assert decode(text.encode("iso2022_kr"), "a.txt") == text
    assert decode(text.encode("utf-16"), "a.txt") == text
    with pytest.raises(BadDocument, match="ISO-2022-CN"):
        decode(b"\x1b$)A\x0e=;\x0f", "cn.txt")


def test_non_utf8_names_and_controls_print_as_escapes():
    name = os.fsdecode(b"caf\xe9-\xff.txt")
    assert printable(name) == r"caf\xe9-\xff.txt"
    assert Skipped(name, "bad\nreason \ud800").path == r"caf\xe9-\xff.txt"
    assert Skipped(name, "bad\nreason \ud800").reason == r"bad\x0areason \ud800"
    assert doc_id_from_path(printable(name)) == r"caf\xe9-\xff"


def test_the_time_budget_abandons_a_slow_reader(tmp_path, monkeypatch):
    path = _copy(FORMATS / "moef-2024q1-odi.hwp", tmp_path / "slow.hwp")
    assert read_file(path, tmp_path)[0]  # within the budget it reads
    monkeypatch.setattr(limits, "SECONDS_PER_FILE", 0.0)
    with pytest.raises(BadDocument, match=r"slow.hwp: reading took longer than 0 s"):
        read_file(path, tmp_path)


def test_the_character_budget_stops_extraction_midway(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DOCUMENT_CHARS", 1000)
    for name in ("noori.hwp", "mot.hwpx", "moef-2024q1-odi.pdf", "sample-word-document.docx"):
        with pytest.raises(BadDocument, match="more than 1,000 characters"):
            read_file(_copy(FORMATS / name, tmp_path / name), tmp_path)


def test_hwp_sections_unpack_within_their_limit(bad_corpus):
    with pytest.raises(BadDocument, match="deflate bomb"):
        read_file(bad_corpus.folder / "deflate-bomb.hwp", bad_corpus.folder)
    assert hwp.MAX_SECTION_BYTES < 40 * MIB  # the bomb unpacks to 40 MiB


def test_any_reader_error_becomes_a_bad_document(tmp_path, monkeypatch):
    def explode(path):
        raise KeyError("internal")

    monkeypatch.setitem(READERS, ".pdf", explode)
    path = tmp_path / "explodes.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(BadDocument, match=r"explodes.pdf: cannot be read \(KeyError: 'internal'\)"):
        read_file(path, tmp_path)


# --- one real ingest through the installed command -----------------------------------------------

@pytest.mark.slow
def test_bot_ingest_indexes_the_good_files_and_lists_every_bad_one(bad_corpus, model_dir, tmp_path):
    from bot.index import load_index

    index_dir = tmp_path / "index"
    started = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "bot"), "ingest", str(bad_corpus.folder), "--index", str(index_dir),
         "--model", str(model_dir), "--quiet"],
        capture_output=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - started
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")  # valid UTF-8, or this fails
    assert result.returncode == 0, stderr[-3000:]
    reported = {}
    for line in stderr.splitlines():
        if line.startswith("skipped "):
            path, _, reason = line[len("skipped "):].partition(": ")
            reported[path] = reason
    for name, fragment in bad_corpus.bad.items():
        assert name in reported, f"{name} not in the ingest report"
        assert reported[name] and fragment.lower() in reported[name].lower(), f"{name}: {reported[name]}"
    assert f"{len(reported)} file(s) or line(s) skipped" in stderr
    data = load_index(index_dir)
    assert set(data.documents) == set(bad_corpus.good)
    assert f"indexed {len(bad_corpus.good)} documents" in stdout
    print(f"bot ingest of the bad corpus: {seconds:.1f} s")
