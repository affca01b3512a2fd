"""Load documents from files and strip what is not article content, keeping original offsets.

Cleaning never rewrites text: it decides which paragraphs (blocks) of the original text are
article content. Every offset the pipeline produces therefore points into the original text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.documents import Block, Document
from rag.faq import looks_like_faq
from rag.text import is_blank, nul_position

__all__ = [
    "SUPPORTED_SUFFIXES",
    "CleanResult",
    "IngestError",
    "clean_document",
    "load_documents",
    "load_path",
    "require_seeds_dir",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")

_LANGUAGE_CODES = frozenset(
    ["ua", "uk", "en", "ru", "de", "fr", "es", "it", "pl", "pt", "tr", "ar", "zh", "ja", "ko", "nl", "cs", "ro", "hu"]
)
_PHOTO = re.compile(r"^(photo|photos|image|picture|credit|illustration)s?\s*[:/]", re.I)
_INLINE_PHOTO = re.compile(r"\sPhoto:\s", re.I)
_BYLINE = re.compile(r"^(author|by|written by|reporter)\s*:?\s+(?P<name>[^\W\d][\w.'’ -]{1,60})$", re.I)
_READ_ALSO = re.compile(r"^(read also|read more|see also|also read|related)\s*:", re.I)
_TAGS = re.compile(r"^tags\s*:?(\s|$)", re.I)
_SEARCH_WIDGET = re.compile(r"(extended search|hide extended search|^search\s*:?$|^by period\s*:?$)", re.I)
_PUNCT_ONLY = re.compile(r"^[\W_]+$")
_FOOTER = re.compile(
    r"(^©|^\(c\)\s|all rights reserved|^while citing|media identifier|"
    r"materials marked as|citation policy|reproduction .* (prohibited|permitted))",
    re.I,
)


class IngestError(ValueError):
    """A file or record cannot be read as a document; the message names it."""


@dataclass
class CleanResult:
    """Which lines of a document were kept, and why the others were dropped."""

    title: str
    blocks: list[Block]
    dropped: list[tuple[int, int, str]] = field(default_factory=list)
    author: str | None = None
    source: str | None = None


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\W+", " ", text).strip()


def _lines(text: str, markdown: bool) -> Iterator[tuple[int, int]]:
    """Yield the ``(start, end)`` offsets of each non-empty paragraph, stripped."""
    pattern = r"(?:[^\n]*\S[^\n]*\n?)+" if markdown else r"[^\n]+"
    for match in re.finditer(pattern, text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if markdown:
            heading = re.match(r"#{1,6}\s+", text[start:end])
            if heading:
                start += heading.end()
        if end > start:
            yield start, end


def _is_language_switcher(line: str) -> bool:
    words = line.lower().split()
    return 2 <= len(words) <= 8 and all(w in _LANGUAGE_CODES for w in words)


def _is_source_line(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 3 and line[-1].isalnum() and all(w[0].isupper() for w in words)


def clean_document(text: str, *, title: str | None = None, markdown: bool = False) -> CleanResult:
    """Decide which paragraphs of ``text`` are article content.

    The title is the first content line unless given. Dropped: language switchers, the title
    repeated as a paragraph, photo credits, bylines, ``Read also`` and ``Tags`` lines, search
    widgets, copyright and citation-policy footers, and paragraphs repeated within the text.
    """
    lines = list(_lines(text, markdown))
    kept: list[tuple[int, int]] = []
    dropped: list[tuple[int, int, str]] = []
    author: str | None = None
    source: str | None = None
    seen: set[str] = set()
    title_norm = _normalise(title) if title else None
    in_footer = False
    for position, (start, end) in enumerate(lines):
        line = text[start:end]
        norm = _normalise(line)
        reason: str | None = None
        if in_footer or _FOOTER.search(line):
            in_footer, reason = True, "footer"
        elif position < 3 and _is_language_switcher(line):
            reason = "language switcher"
        elif title_norm is None:
            title, title_norm = line, norm
        elif norm == title_norm:
            reason = "repeated title"
        elif norm.startswith(title_norm) and _INLINE_PHOTO.search(line):
            reason = "repeated title with photo credit"
        elif _PHOTO.match(line):
            reason = "photo credit"
        elif (byline := _BYLINE.match(line)) and len(line.split()) <= 6:
            reason, author = "byline", author or byline.group("name").strip()
        elif _READ_ALSO.match(line):
            reason = "read also"
        elif _TAGS.match(line):
            reason = "tags"
        elif _SEARCH_WIDGET.search(line) or _PUNCT_ONLY.match(line):
            reason = "search widget"
        elif len(kept) <= 1 and source is None and _is_source_line(line):
            reason, source = "source line", line
        elif norm in seen:
            reason = "duplicate paragraph"
        if reason is None:
            seen.add(norm)
            kept.append((start, end))
        else:
            dropped.append((start, end, reason))
    blocks = _sections(kept, dropped)
    return CleanResult(title=(title or "").strip(), blocks=blocks, dropped=dropped, author=author, source=source)


def _sections(kept: list[tuple[int, int]], dropped: list[tuple[int, int, str]]) -> list[Block]:
    """Number the kept blocks so that a dropped paragraph between two blocks starts a new section."""
    dropped_starts = sorted(d[0] for d in dropped)
    blocks: list[Block] = []
    section = 0
    previous_end = -1
    for start, end in kept:
        if blocks and any(previous_end <= d < start for d in dropped_starts):
            section += 1
        blocks.append(Block(start, end, section))
        previous_end = end
    return blocks


def _document_from_text(
    doc_id: str,
    text: str,
    *,
    path: str | None = None,
    title: str | None = None,
    markdown: bool = False,
    **meta: str | None,
) -> Document:
    cleaned = clean_document(text, title=title, markdown=markdown)
    return Document(
        doc_id=doc_id,
        text=text,
        title=cleaned.title,
        source=meta.get("source") or cleaned.source,
        url=meta.get("url"),
        published=meta.get("published"),
        author=cleaned.author,
        path=path,
        blocks=cleaned.blocks,
    )


def _read_text(path: Path) -> str:
    # utf-8-sig drops a leading byte-order mark (Windows editors write one), which is no part of the text:
    # it would sit in the title and the first word. Offsets count from the character after it.
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror})") from exc
    position = nul_position(text)
    if position is not None:
        raise IngestError(f"{path}: holds a NUL character (at character {position}), so it is not plain text")
    return text


_JSONL_FIELDS = {"id", "title", "text", "url", "published", "source"}


def _load_jsonl(path: Path) -> Iterator[Document]:
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise IngestError(f"{where}: expected a JSON object with 'id' and 'text'")
        for key in ("id", "text"):
            if not isinstance(record.get(key), str) or is_blank(record[key]):
                raise IngestError(f"{where}: field '{key}' must be a non-empty string")
        for key in sorted(_JSONL_FIELDS):
            value = record.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise IngestError(f"{where}: field '{key}' must be a string")
            position = nul_position(value)
            if position is not None:
                raise IngestError(f"{where}: field '{key}' holds a NUL character (U+0000 at position {position})")
        yield _document_from_text(
            record["id"],
            record["text"],
            path=str(path),
            title=record.get("title") or None,
            url=record.get("url"),
            published=record.get("published"),
            source=record.get("source"),
        )


def load_path(path: Path) -> list[Document]:
    """Read one file (``.txt``, ``.md``, ``.jsonl``) into documents."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(f"{path}: unsupported file type '{suffix}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if suffix == ".jsonl":
        return list(_load_jsonl(path))
    text = _read_text(path)
    if is_blank(text):
        raise IngestError(f"{path}: file is empty")
    return [_document_from_text(path.stem, text, path=str(path), markdown=suffix in (".md", ".markdown"))]


def require_seeds_dir(path: Path) -> Path:
    """``path``, the configured seeds directory, or an error saying which setting names it."""
    if not path.exists():
        raise IngestError(
            f"seeds directory {path} (RAG_SEEDS_DIR) does not exist: the index is built and kept fresh from it; "
            "run from the directory that holds it or set RAG_SEEDS_DIR"
        )
    return path


def _iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise IngestError(f"{path}: no such file or directory")


def load_documents(paths: Iterable[Path | str]) -> tuple[list[Document], list[Document]]:
    """Load every supported file under ``paths``; returns ``(articles, faq_documents)``.

    FAQ documents (a summary, then question/answer lines) are recognised by shape and kept
    apart, so the index never holds a gold answer. Duplicate ids are an error.
    """
    articles: list[Document] = []
    faqs: list[Document] = []
    seen: dict[str, str] = {}
    for file in _iter_files(Path(p) for p in paths):
        for document in load_path(file):
            if document.doc_id in seen:
                raise IngestError(f"{file}: document id '{document.doc_id}' already used by {seen[document.doc_id]}")
            seen[document.doc_id] = str(file)
            (faqs if looks_like_faq(document.text) else articles).append(document)
    return articles, faqs
