"""The ``rag`` command: index, ask, serve, eval, config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag import __version__

__all__ = ["main"]


class CliError(Exception):
    """A user-facing error: printed as ``rag: error: ...`` with exit code 2."""


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _settings(args: argparse.Namespace) -> object:
    from rag.config import load_settings

    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = args.index_dir
    return load_settings(**overrides)


def _show_progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def cmd_index(args: argparse.Namespace) -> int:
    from rag.config import Settings
    from rag.corpus import CorpusJournal, load_corpus
    from rag.entities import make_tagger
    from rag.pipeline import make_embedder, open_index
    from rag.store import IndexCorruptError

    settings = _settings(args)
    assert isinstance(settings, Settings)
    paths = args.paths or [settings.seeds_dir]
    # The written corpus (API writes) is layered over the files, as `rag serve` does.
    articles, faqs = load_corpus(paths, CorpusJournal(settings.journal_path()))
    if not articles:
        raise CliError(f"no articles found under {', '.join(map(str, paths))} (supported: .txt .md .jsonl)")
    embedder = make_embedder(settings)
    rebuild = args.rebuild
    tagger = make_tagger(settings.entity_tagger)  # the tagger `rag serve` uses, or serve would rebuild the index
    with progress_bar("Embedding documents", _show_progress(args)) as update:
        try:
            store, status = open_index(
                articles,
                embedder,
                settings.chunking(),
                settings.index_dir,
                rebuild=rebuild,
                progress=update,
                tagger=tagger,
            )
        except IndexCorruptError as exc:
            print(f"rag: {exc}\nrag: repairing: rebuilding the index from the documents", file=sys.stderr)
            store, status = open_index(
                articles,
                embedder,
                settings.chunking(),
                settings.index_dir,
                rebuild=True,
                progress=update,
                tagger=tagger,
            )
    counts = store.manifest["counts"]
    reuse = (
        f" (embedded {status.stats.documents_embedded}, reused {status.stats.documents_reused})" if status.stats else ""
    )
    print(
        f"index {status.action} at {settings.index_dir}: {counts['documents']} documents, "
        f"{counts['passages']} passages, {counts['sentences']} sentences in {status.seconds:.1f}s{reuse}; "
        f"{len(faqs)} FAQ document(s) kept apart"
    )
    return 0


def _format_answer(answer: object) -> str:
    from rag.answer import Answer

    assert isinstance(answer, Answer)
    lines = [answer.answer, "", f"confidence: {answer.confidence:.2f}" + ("  (abstained)" if answer.abstained else "")]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
    for citation in answer.citations:
        source = f" — {citation.source}" if citation.source else ""
        url = f" <{citation.url}>" if citation.url else ""
        lines.append(f"[{citation.id}] {citation.title}{source}{url}")
        lines.append(f"    {citation.doc_id} [{citation.start}:{citation.end}]")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.config import Settings
    from rag.pipeline import build_pipeline

    settings = _settings(args)
    assert isinstance(settings, Settings)
    question = args.question.strip()
    if not question:
        raise CliError("the question must not be empty")
    if len(question) > settings.max_question_chars:
        raise CliError(f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}")
    pipeline = build_pipeline(settings)
    answer = pipeline.ask(question, top_k=args.top_k, max_sentences=args.max_sentences)
    if args.json:
        from api.routes.ask import answer_public

        print(answer_public(answer).model_dump_json(indent=2))
    else:
        print(_format_answer(answer))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app
    from rag.config import Settings

    settings = _settings(args)
    assert isinstance(settings, Settings)
    host = args.host or settings.host
    port = args.port or settings.port
    # Open the index before the server starts, so a damaged one is refused with its message and exit code 2.
    from rag.pipeline import build_pipeline

    pipeline = build_pipeline(settings)
    pipeline.warm_up()
    uvicorn.run(create_app(settings, pipeline=pipeline), host=host, port=port, log_config=None, access_log=False)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from rag.config import Settings

    settings = _settings(args)
    assert isinstance(settings, Settings)
    values = settings.masked()
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        width = max(len(k) for k in values)
        for key, value in values.items():
            print(f"RAG_{key.upper():<{width}}  {json.dumps(value)}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Extractive, cited question answering over news articles.")
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = sub.add_parser("index", help="build or update the index from documents")
    index.add_argument("paths", nargs="*", type=Path, help="files or directories (default: RAG_SEEDS_DIR)")
    index.add_argument("--index-dir", type=Path, help="where the index goes (default: RAG_INDEX_DIR)")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything, even with another model")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.set_defaults(handler=cmd_index)

    ask = sub.add_parser("ask", help="answer a question with cited sentences")
    ask.add_argument("question")
    ask.add_argument("--index-dir", type=Path)
    ask.add_argument("--top-k", type=_positive)
    ask.add_argument("--max-sentences", type=_positive)
    ask.add_argument("--json", action="store_true", help="print the API's JSON response")
    ask.set_defaults(handler=cmd_ask)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=_positive)
    serve.add_argument("--index-dir", type=Path)
    serve.set_defaults(handler=cmd_serve)

    config = sub.add_parser("config", help="print the effective settings (secrets masked)")
    config.add_argument("--json", action="store_true")
    config.set_defaults(handler=cmd_config)

    try:
        from rag.evaluation.cli import add_eval_parser
    except ImportError:
        pass
    else:
        add_eval_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from rag.config import SettingsError
    from rag.embedding import EmbedderError
    from rag.ingest import IngestError
    from rag.logs import configure_logging
    from rag.store import IndexStoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from rag.config import load_settings

        settings = load_settings()
        # Commands other than serve only speak up for warnings, unless asked for more.
        level = settings.log_level if args.command == "serve" or settings.log_level == "DEBUG" else "WARNING"
        configure_logging(level, settings.log_format)
        return int(args.handler(args))
    except (CliError, SettingsError, IngestError, IndexStoreError, EmbedderError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
