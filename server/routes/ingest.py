"""`/api/ingest/runs`: a user's script streams its own `model.fit` in (GradWatchCallback)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from server.errors import StrictJSONResponse
from server.identity import Visitor
from server.openapi import answers
from server.routes.deps import get_service, get_visitor
from server.service import RunService
from trainer.contract.schemas import Run


def _body(description: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "description": description, "content": {
        "application/json": {"schema": {"type": "object"}}}}}


router = APIRouter(prefix="/api/ingest/runs", tags=["scripts"])
Service = Annotated[RunService, Depends(get_service)]
Caller = Annotated[Visitor, Depends(get_visitor)]


@router.post("", status_code=201, response_model=Run, responses=answers(413, 422, 429),
             openapi_extra=_body("{name, layers, total_steps, config, script}: a script's fit "
                                 "begins (docs/protocol.md)."))
async def open_script_run(request: Request, service: Service,
                          visitor: Caller) -> StrictJSONResponse:
    """Open a running run of the caller's that a script reports the steps of."""
    return StrictJSONResponse(await service.scripts.open(visitor, await request.body()), 201)


@router.post("/{run_id}/events", responses=answers(403, 404, 409, 413, 422),
             openapi_extra=_body("{events: [metrics | epoch | diagnosis | finished]}"))
async def post_script_events(run_id: str, request: Request, service: Service,
                             visitor: Caller) -> StrictJSONResponse:
    """Apply a script's events; 409 with the status once the run has ended (stopped from the
    page, say): the script then stops fit."""
    status, answer = service.scripts.post(visitor, run_id, await request.body())
    return StrictJSONResponse(answer, status)
