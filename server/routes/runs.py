"""REST of runs (CONTRACT §4): create, list, read, metrics, stop, restart, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from starlette.responses import Response, StreamingResponse

from server.bodies import StrictJSONRoute
from server.detail import history_range, parse_metrics
from server.errors import StrictJSONResponse
from server.export import history_csv, history_json, off_loop
from server.lod import DEFAULT_BUCKETS, MAX_BUCKETS
from server.openapi import PartialRunConfig, answers
from server.routes.deps import Caller, ServiceDep
from trainer.contract.config import RunConfig
from trainer.contract.schemas import History, Run

router = APIRouter(prefix="/api/runs", tags=["runs"], route_class=StrictJSONRoute)
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {
    "schema": {"type": "string"}}}, "description": "JSON by default; CSV with format=csv."}}


@router.post("", status_code=201, response_model=Run, responses=answers(413, 415, 422, 429, 503))
async def create_run(config: Annotated[RunConfig, Body(default_factory=RunConfig)],
                     service: ServiceDep, visitor: Caller) -> StrictJSONResponse:
    """Queue a run of the RunConfig in the body (every field optional)."""
    return StrictJSONResponse(await service.create(visitor, config), 201)


# Every handler here is `async def`: they read the service's in-memory state, which only the
# event loop may touch (a plain `def` would run in a thread pool).


@router.get("", response_model=list[Run], responses=answers(422))
async def list_runs(service: ServiceDep, visitor: Caller,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> StrictJSONResponse:
    """Runs, newest first."""
    return StrictJSONResponse(await service.list(visitor, limit))


@router.get("/{run_id}", response_model=Run, responses=answers(404))
async def get_run(run_id: str, service: ServiceDep, visitor: Caller) -> StrictJSONResponse:
    """One run."""
    return StrictJSONResponse(service.get(run_id, visitor))


@router.get("/{run_id}/metrics", response_model=History, responses={**CSV, **answers(404, 422)})
async def get_metrics(run_id: str, service: ServiceDep,
                      format: Literal["json", "csv"] = "json") -> Response:
    """The run's whole recorded History, as JSON or as CSV (one row per recorded step).

    Streamed: written a page of steps at a time in the thread pool (server/export.py)."""
    row, pages, widths = service.export_pages(run_id)
    freed = service.trimmer.soon
    if format == "json":
        return StreamingResponse(off_loop(history_json(pages), freed),
                                 media_type="application/json")
    return StreamingResponse(
        off_loop(history_csv(pages, row["layers"] or [], widths), freed), media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.csv"'})


@router.get("/{run_id}/history", responses=answers(404, 422))
async def get_history_range(
        run_id: str, service: ServiceDep,
        first: Annotated[int, Query(ge=0, description="first step of the range")] = 0,
        last: Annotated[int | None, Query(ge=0, description="last step (default: the end)")]
        = None,
        buckets: Annotated[int, Query(ge=1, le=MAX_BUCKETS, description="columns shown")]
        = DEFAULT_BUCKETS,
        metrics: Annotated[str | None, Query(max_length=500, description=(
            "comma-separated per-layer metrics to summarize; the loss always"))] = None,
) -> StrictJSONResponse:
    """A range of the run's recorded steps at the resolution shown: `{first, last, count,
    history}` with every step when at most `buckets`, else `{..., summary}` (docs/protocol.md)."""
    return StrictJSONResponse(await history_range(service, run_id, first, last, buckets,
                                                  parse_metrics(metrics)))


@router.get("/{run_id}/diagnoses", responses=answers(404))
async def get_diagnoses(run_id: str, service: ServiceDep) -> StrictJSONResponse:
    """The run's diagnosis as it changed: `{run_id, diagnoses: [{step, diagnosis}]}`, each made
    when `step` was the last recorded step (replay shows the one it had reached)."""
    return StrictJSONResponse({"run_id": run_id, "diagnoses": await service.diagnoses(run_id)})


@router.post("/{run_id}/stop", status_code=202, response_model=Run,
             responses=answers(403, 404, 409))
async def stop_run(run_id: str, service: ServiceDep, visitor: Caller) -> StrictJSONResponse:
    """Stop a queued or running run (its owner or the admin)."""
    return StrictJSONResponse(await service.stop(visitor, run_id), 202)


@router.post("/{run_id}/restart", status_code=201, response_model=Run,
             responses=answers(404, 413, 415, 422, 429, 503))
async def restart_run(run_id: str, service: ServiceDep, visitor: Caller,
                      overrides: Annotated[PartialRunConfig, Body(default_factory=dict)]
                      ) -> StrictJSONResponse:
    """A new run of the caller's: this run's config with the body deep-merged over it."""
    return StrictJSONResponse(await service.restart(visitor, run_id, overrides), 201)


@router.delete("/{run_id}", status_code=204, response_class=Response,
               responses=answers(403, 404, 409))
async def delete_run(run_id: str, service: ServiceDep, visitor: Caller) -> Response:
    """Delete a run that has ended, with its history."""
    service.delete(visitor, run_id)
    return Response(status_code=204)
