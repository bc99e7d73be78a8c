"""Property-based: every kind of invalid RunConfig is answered 422 with its path, nothing created.

The fields, their types, choices and bounds are read from RunConfig itself, so a field added
there is covered here without editing this file. The app runs in this process with no workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, get_args, get_origin

import pytest
from annotated_types import Ge, Gt, Le, MaxLen
from httpx import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tests.helpers import app_client, tiny_run
from trainer.contract.config import DATASETS, SEQUENCE_DATASETS, RunConfig, trainable_params

MAX_PARAMS = 100_000  # the server's own limit in this module, below RunConfig's 5,000,000
PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def leaf_fields() -> list[tuple[tuple[str, ...], FieldInfo]]:
    """Every field a RunConfig body can hold, as (path, field), sections unfolded."""
    leaves = []
    for name, field in RunConfig.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            leaves += [((name, sub), f) for sub, f in section.model_fields.items()]
        else:
            leaves.append(((name,), field))
    return leaves


LEAVES = leaf_fields()
SECTIONS = {name: f.annotation for name, f in RunConfig.model_fields.items()
            if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)}
JSON_SCALARS = {
    "int": st.integers(min_value=-(10**20), max_value=10**20),
    "float": st.floats(allow_nan=False, allow_infinity=False),
    "bool": st.booleans(),
    "str": st.text(max_size=20),
    "null": st.none(),
    "list": st.lists(st.integers(), max_size=3),
    "object": st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
}
# JSON kinds a field of each Python type refuses (strict: no "5" for 5, no 1 for true;
# an int is a valid float).
REFUSED_KINDS = {int: ["float", "bool", "str", "null", "list", "object"],
                 float: ["bool", "str", "null", "list", "object"],
                 bool: ["int", "float", "str", "null", "list", "object"],
                 str: ["int", "float", "bool", "null", "list", "object"]}


def bound(field: FieldInfo, kind: type, attribute: str) -> Any:
    return next((getattr(m, attribute) for m in field.metadata if isinstance(m, kind)), None)


def wrong_type(field: FieldInfo) -> st.SearchStrategy[Any]:
    """A JSON value of a type the field does not take."""
    python_type = str if get_origin(field.annotation) is Literal else field.annotation
    return st.one_of(*(JSON_SCALARS[k] for k in REFUSED_KINDS[python_type]))


def out_of_range(field: FieldInfo) -> st.SearchStrategy[Any] | None:
    """A value of the right type outside the field's bounds (None if it has no bounds)."""
    ge, gt, le = bound(field, Ge, "ge"), bound(field, Gt, "gt"), bound(field, Le, "le")
    max_len = bound(field, MaxLen, "max_length")
    options = []
    if field.annotation is int:
        if ge is not None:
            options.append(st.integers(max_value=ge - 1, min_value=-(10**20)))
        if le is not None:
            options.append(st.integers(min_value=le + 1, max_value=10**20))
    elif field.annotation is float:
        finite = {"allow_nan": False, "allow_infinity": False}
        if ge is not None:
            options.append(st.floats(max_value=ge, exclude_max=True, **finite))
        if gt is not None:
            options.append(st.floats(max_value=gt, **finite))
        if le is not None:
            options.append(st.floats(min_value=le, exclude_min=True, **finite))
    elif max_len is not None:
        options.append(st.text(min_size=max_len + 1, max_size=max_len + 20))
    return st.one_of(*options) if options else None


def bad_choice(field: FieldInfo) -> st.SearchStrategy[Any] | None:
    """A string that is not one of a Literal field's names."""
    if get_origin(field.annotation) is not Literal:
        return None
    choices = set(get_args(field.annotation))
    return st.text(max_size=20).filter(lambda s: s not in choices)


@st.composite
def valid_config(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid RunConfig body: some fields given, the rest left to their defaults."""
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["name"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        body["model"] = {"depth": draw(st.integers(1, 8)), "width": draw(st.integers(1, 64))}
    if draw(st.booleans()):
        body["dataset"] = {"name": draw(st.sampled_from(
            [d for d in DATASETS if d not in SEQUENCE_DATASETS]))}
    if draw(st.booleans()):
        body["remedies"] = {"batch_norm": draw(st.booleans()),
                            "activation": draw(st.sampled_from(["relu", "tanh", "sigmoid"]))}
    if draw(st.booleans()):
        body["training"] = {"epochs": draw(st.integers(1, 500))}
    return body


def put(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """body with the value at path (sections created as needed)."""
    out = json.loads(json.dumps(body))
    target = out
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value
    return out


def invalid_value(field: FieldInfo) -> st.SearchStrategy[Any]:
    """A wrong type, an out-of-range number or too long a text, or a name not offered."""
    makers = [wrong_type(field), out_of_range(field), bad_choice(field)]
    return st.one_of(*(m for m in makers if m is not None))


@st.composite
def invalid_field(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """(body, the path of its one error): one field of a valid body made invalid."""
    path, field = draw(st.sampled_from(LEAVES))
    return put(draw(valid_config()), path, draw(invalid_value(field))), ".".join(path)


@st.composite
def several_invalid_fields(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """(body, the paths of its errors): 2 to 4 invalid fields, maybe an unknown one too."""
    leaves = draw(st.lists(st.sampled_from(LEAVES), min_size=2, max_size=4,
                           unique_by=lambda leaf: leaf[0]))
    body: dict[str, Any] = {}
    for path, field in leaves:
        body = put(body, path, draw(invalid_value(field)))
    paths = {".".join(path) for path, _ in leaves}
    if draw(st.booleans()):
        path = draw(unknown_path())
        body = put(body, path, draw(st.one_of(*JSON_SCALARS.values())))
        paths.add(".".join(path))
    return body, paths


@st.composite
def unknown_path(draw: st.DrawFn) -> tuple[str, ...]:
    """A field name RunConfig does not have, at the top or inside any section."""
    level = draw(st.sampled_from([None, *SECTIONS]))
    known = set(RunConfig.model_fields if level is None else SECTIONS[level].model_fields)
    name = draw(st.text(min_size=1, max_size=12).filter(lambda s: s not in known))
    return (name,) if level is None else (level, name)


@st.composite
def unknown_field(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """(body, path): a valid body with one field RunConfig does not have."""
    path = draw(unknown_path())
    value = draw(st.one_of(*JSON_SCALARS.values()))
    return put(draw(valid_config()), path, value), ".".join(path)


@st.composite
def section_not_object(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A section given as something other than a JSON object."""
    section = draw(st.sampled_from(list(SECTIONS)))
    value = draw(st.one_of(*(JSON_SCALARS[k] for k in JSON_SCALARS if k != "object")))
    return put(draw(valid_config()), (section,), value), section


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with app_client(tmp_path_factory.mktemp("props"), max_params=MAX_PARAMS) as http:
        parent = http.post("/api/runs", json=tiny_run())
        assert parent.status_code == 201
        http.parent_id = parent.json()["id"]  # a run to restart with invalid overrides
        yield http


def run_ids(http: Client) -> list[str]:
    return [r["id"] for r in http.get("/api/runs").json()]


def refused(http: Client, body: Any, restart: bool = False) -> list[dict[str, Any]]:
    """Post the body (as a new run or as a restart's overrides); the 422's detail items."""
    before = run_ids(http)
    path = f"/api/runs/{http.parent_id}/restart" if restart else "/api/runs"
    response = http.post(path, content=json.dumps(body),
                         headers={"content-type": "application/json"})
    assert response.status_code == 422, (body, response.status_code, response.text)
    assert run_ids(http) == before, "an invalid body created a run"
    detail = response.json()["detail"]
    assert detail and isinstance(detail, list)
    for item in detail:
        assert set(item) == {"loc", "path", "msg", "type"}
        assert item["msg"].startswith(f"{item['path']}: ") and len(item["msg"]) > len(
            item["path"]) + 10, item
    return detail


@PROPERTY
@given(case=st.one_of(invalid_field(), unknown_field(), section_not_object()),
       restart=st.booleans())
def test_one_invalid_field_is_422_with_exactly_its_path(api: Client, case, restart) -> None:
    body, path = case
    detail = refused(api, body, restart)
    assert [item["path"] for item in detail] == [path]


@PROPERTY
@given(case=several_invalid_fields())
def test_several_invalid_fields_are_all_named(api: Client, case) -> None:
    body, paths = case
    assert {item["path"] for item in refused(api, body)} == paths


@PROPERTY
@given(dataset=st.sampled_from([d for d in DATASETS if d not in SEQUENCE_DATASETS]),
       base=valid_config())
def test_rnn_without_a_sequence_dataset_is_refused(api: Client, dataset, base) -> None:
    body = put(put(base, ("model", "arch"), "rnn"), ("dataset", "name"), dataset)
    (item,) = refused(api, body)
    assert item["path"] == "dataset.name" and "model.arch 'rnn'" in item["msg"]
    assert "adding" in item["msg"]  # what to use instead


@PROPERTY
@given(arch=st.sampled_from([None, "mlp"]), base=valid_config())
def test_a_sequence_dataset_without_rnn_is_refused(api: Client, arch, base) -> None:
    body = put(base, ("dataset", "name"), "adding")
    body.get("model", {}).pop("arch", None)
    if arch:
        body = put(body, ("model", "arch"), arch)
    (item,) = refused(api, body)
    assert item["path"] == "model.arch" and "needs model.arch 'rnn'" in item["msg"]


@PROPERTY
@given(depth=st.integers(1, 64), width=st.integers(1, 1024), features=st.integers(1, 4096),
       rnn=st.booleans(), cell=st.sampled_from(["simple_rnn", "lstm", "gru"]))
def test_a_model_over_the_parameter_limit_is_refused_before_queueing(
        api: Client, depth, width, features, rnn, cell) -> None:
    body = {"model": {"depth": depth, "width": width},
            "dataset": {"name": "random", "n_features": features}}
    if rnn:
        body = {"model": {"arch": "rnn", "cell": cell, "depth": depth, "width": width},
                "dataset": {"name": "adding"}}
    n = trainable_params(RunConfig.model_construct(**{
        k: RunConfig.model_fields[k].annotation.model_validate(v) for k, v in body.items()}))
    if n <= MAX_PARAMS:
        return  # a model this small is allowed (the other tests show valid bodies pass)
    (item,) = refused(api, body)
    assert item["path"] == "model"
    assert f"{n:,} trainable parameters" in item["msg"]


@PROPERTY
@given(body=st.one_of(JSON_SCALARS["list"], JSON_SCALARS["str"], JSON_SCALARS["int"],
                      JSON_SCALARS["float"], JSON_SCALARS["bool"], JSON_SCALARS["null"]))
def test_a_body_that_is_not_an_object_is_refused(api: Client, body) -> None:
    (item,) = refused(api, body)
    assert item["path"] == "(body)" and "expected a JSON object" in item["msg"]


@pytest.mark.parametrize("raw", [b"{", b'{"seed": NaN}', b'{"seed": Infinity}', b"\xff",
                                 b'{"model": {"depth": 2,}}'])
def test_text_that_is_not_json_is_refused(api: Client, raw: bytes) -> None:
    before = run_ids(api)
    response = api.post("/api/runs", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422 and run_ids(api) == before
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_the_valid_bodies_the_strategies_start_from_are_accepted(api: Client) -> None:
    # Guards the properties above: their base configs are valid, so each 422 comes from the
    # one thing a test made invalid.
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=valid_config())
    def accepted(body: dict[str, Any]) -> None:
        response = api.post("/api/runs", json=body)
        assert response.status_code == 201, response.text
        assert api.post(f"/api/runs/{response.json()['id']}/stop").status_code == 202

    accepted()
