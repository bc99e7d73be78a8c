"""The dashboard page, its static files, and Plotly.js from the installed plotly package."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from trainer.contract import pagecontract


def _frontend_dir() -> Path:
    """frontend/ of the repository, or, installed with pip, the copy in the gradwatch package
    (located without importing gradwatch, which would import Keras)."""
    here = Path(__file__).resolve().parents[2] / "frontend"
    if here.is_dir():
        return here
    spec = importlib.util.find_spec("gradwatch")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "frontend"
    return here


FRONTEND_DIR = _frontend_dir()

router = APIRouter(include_in_schema=False)


@cache
def plotly_js() -> Path | None:
    """plotly.min.js as shipped in the plotly package (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@router.get("/")
def index() -> Response:
    """The dashboard."""
    page = FRONTEND_DIR / "index.html"
    if not page.is_file():
        return HTMLResponse("<h1>GradWatch</h1><p>The page (frontend/index.html) is missing "
                            "from this installation.</p>", 503)
    return FileResponse(page, media_type="text/html")


@router.get("/static/plotly.min.js")
def plotly() -> Response:
    """Plotly.js, served locally so the page fetches nothing from the internet."""
    path = plotly_js()
    if path is None:
        return HTMLResponse("plotly.min.js is missing: install the pinned requirements", 503)
    return FileResponse(path, media_type="text/javascript")


@router.get("/static/contract.js")
def contract_js() -> Response:
    """The contract as the page's ES module, generated from trainer/contract/: statuses, close
    codes, the per-layer fields and their words, the diagnosis's thresholds (the page imports
    them from here instead of retyping them)."""
    return Response(pagecontract.render(), media_type="text/javascript")


def mount_static(app: FastAPI) -> None:
    """Serve frontend/ under /static (after the routes above, which take precedence)."""
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR, check_dir=False), name="static")
