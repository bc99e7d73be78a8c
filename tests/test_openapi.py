"""Schemathesis over the app's own OpenAPI spec: no server error, answers as documented.

The app runs in this process with no workers (runs are accepted and wait); the examples per
operation are bounded so the whole module takes well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.app import create_app
from server.settings import Settings
from tests.helpers import tiny_run
from trainer.contract.config import RunConfig

ADMIN = "schemathesis-admin"
EXAMPLES = 50  # per operation and generation mode


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi"), workers=0,
                              admin_token=ADMIN, max_queue=100_000,
                              allowed_hosts="testserver"))
    yield app
    asgi.shutdown_lifespans()  # schemathesis started the app's lifespan; end it with the module


# A body over the size limit is refused with 413, as each route with a body documents; the
# ingest bodies' schemas allow long lists, so negative cases can be that large.
REJECTED = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def run_ids(app: Any, api_schema: Any) -> list[str]:
    """Runs that exist, so operations on /api/runs/{run_id} reach more than their 404."""
    with asgi.get_client(app) as http:
        ids = [http.post("/api/runs", json=tiny_run()).json()["id"] for _ in range(3)]
        http.post(f"/api/runs/{ids[0]}/stop", headers={"Authorization": f"Bearer {ADMIN}"})
    return ids


def test_the_spec_documents_the_bodies_and_answers(api_schema: Any) -> None:
    spec = api_schema.raw_schema
    create = spec["paths"]["/api/runs"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RunConfig"}
    assert {"201", "413", "422", "429"} <= set(create["responses"])
    run = spec["components"]["schemas"]["Run"]
    assert {"id", "status", "config", "layers", "progress", "owned"} <= set(run["required"])
    config = spec["components"]["schemas"]["RunConfig"]
    assert config["additionalProperties"] is False
    # Generated from the model the route takes as its body, not declared by hand.
    assert set(config["properties"]) == set(RunConfig.model_fields)
    assert config["properties"]["model"] == {"$ref": "#/components/schemas/ModelConfig"}
    for path, method in [("/api/runs/{run_id}/stop", "post"), ("/api/runs/{run_id}", "delete")]:
        assert {"403", "404", "409"} <= set(spec["paths"][path][method]["responses"])


def check_operation(operation: Any, mode: GenerationMode, run_ids: list[str]) -> None:
    """Up to EXAMPLES generated requests to one operation, each response validated."""

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case: Any, data: st.DataObject) -> None:
        if "run_id" in (case.path_parameters or {}) and data.draw(st.booleans(), "existing"):
            case.path_parameters["run_id"] = data.draw(st.sampled_from(run_ids), "run id")
        admin = data.draw(st.booleans(), "as the admin")
        headers = {"Authorization": f"Bearer {ADMIN}"} if admin else None
        # A body that fits the JSON schema may still be refused with 422: combinations
        # (adding needs rnn) and the trainable-parameter limit are the server's checks, which
        # JSON Schema cannot express.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    call()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
def test_no_server_error_and_answers_conform(api_schema: Any, run_ids: list[str],
                                             mode: GenerationMode) -> None:
    failures, tested = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            check_operation(operation, mode, run_ids)
            tested.append(operation.label)
        except Unsatisfiable:
            # Negative mode: nothing here can be invalid (a run id is any string).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, FailureGroup) as exc:  # report every failing operation
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert {"POST /api/runs", "POST /api/runs/{run_id}/restart", "GET /api/runs"} <= set(
        tested), tested
    assert len(tested) >= (10 if mode is GenerationMode.POSITIVE else 4), tested
