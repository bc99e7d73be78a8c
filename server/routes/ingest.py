"""`/api/ingest/runs`: a user's script streams its own `model.fit` in (GradWatchCallback)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from server.bodies import StrictJSONRoute
from server.errors import StrictJSONResponse
from server.ingestbody import NewScriptRun, ScriptEvents
from server.openapi import answers
from server.routes.deps import Caller, ServiceDep
from trainer.contract.schemas import Run

router = APIRouter(prefix="/api/ingest/runs", tags=["scripts"], route_class=StrictJSONRoute)


@router.post("", status_code=201, response_model=Run, responses=answers(413, 415, 422, 429))
async def open_script_run(new: NewScriptRun, service: ServiceDep,
                          visitor: Caller) -> StrictJSONResponse:
    """Open a running run of the caller's that a script reports the steps of
    (a script's fit begins; docs/protocol.md)."""
    run_id = service.scripts.open(visitor, new)
    return StrictJSONResponse(service.get(run_id, visitor), 201)


@router.post("/{run_id}/events", responses=answers(403, 404, 409, 413, 415, 422))
async def post_script_events(run_id: str,
                             body: Annotated[ScriptEvents, Body(default_factory=ScriptEvents)],
                             service: ServiceDep, visitor: Caller) -> StrictJSONResponse:
    """Apply a script's events; 409 with the status once the run has ended (stopped from the
    page, say): the script then stops fit."""
    status, answer = service.scripts.post(visitor, run_id, body.events)
    return StrictJSONResponse(answer, status)
