"""``GET /``: the reader's page (FAQ answered from the articles, and an ask box)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import PipelineDep
from api.routes.faq import faq_answers
from rag import __version__

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "router", "templates"]

_HERE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"

# Autoescaping is on for every template: article text and questions are data, never markup.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
)

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, pipeline: PipelineDep) -> HTMLResponse:
    """The FAQ with its answers rendered server-side (readable without JavaScript), and the ask box."""
    faq = faq_answers(request.app.state, pipeline)
    documents = sorted(pipeline.store.documents.values(), key=lambda d: d.doc_id)
    context = {
        "faq": faq,
        "documents": documents,
        "version": __version__,
        "root": request.scope.get("root_path", "").rstrip("/"),
    }
    return templates.TemplateResponse(request, "index.html", context)
