"""The app model built from real /config and /info answers of three server versions."""

from __future__ import annotations

import pytest

from gradio_jobs import ArgumentError, EndpointNotFoundError
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.capabilities import Capabilities, Route, parse_version
from gradio_jobs.protocol.diff import DeleteSemantics
from gradio_jobs.protocol.view import render_api
from tests.fixtures import captures

SRC = "http://127.0.0.1:7860/"


@pytest.fixture(params=captures.VERSIONS)
def app(request):
    return build_app(SRC, captures.config(request.param), captures.info(request.param))


def test_capabilities_per_version() -> None:
    caps = {v: Capabilities.from_config(captures.config(v)) for v in captures.VERSIONS}
    assert caps["4.44.1"].api_prefix == "" and caps["5.50.0"].api_prefix == caps["6.31.0"].api_prefix == "gradio_api/"
    assert all(c.protocol == "sse_v3" and c.close_stream and c.cancel_route for c in caps.values())
    assert caps["4.44.1"].quoted_error_messages and not caps["5.50.0"].quoted_error_messages
    assert caps["4.44.1"].diff_semantics is DeleteSemantics.UNSHIFTED
    assert caps["6.31.0"].diff_semantics is DeleteSemantics.SHIFTED
    assert caps["6.31.0"].api_visibility_field and not caps["5.50.0"].api_visibility_field
    old = Capabilities.from_config({"version": "4.16.0", "protocol": "sse_v1"})
    assert old.diff_semantics is None and not old.close_stream and not old.cancel_route and old.multiplexed_stream
    ws = Capabilities.from_config({"version": "3.50.2"})
    assert ws.protocol == "ws" and ws.supported and ws.legacy_files and ws.reset_by == "fn_index"
    assert not Capabilities.from_config({"version": "9.0", "protocol": "carrier_pigeon"}).supported


@pytest.mark.parametrize(
    "config,queued_route",
    [
        ({"version": "3.50.2", "enable_queue": True}, Route.WEBSOCKET),
        ({"version": "4.8.0", "protocol": "sse"}, Route.JOB_STREAM),
        ({"version": "4.16.0", "protocol": "sse_v1"}, Route.SESSION_STREAM),
        ({"version": "4.21.0", "protocol": "sse_v2.1"}, Route.SESSION_STREAM),
        ({"version": "6.31.0", "protocol": "sse_v3"}, Route.SESSION_STREAM),
        ({"version": "3.50.2", "enable_queue": False}, Route.DIRECT),
    ],
)
def test_route_per_generation(config, queued_route) -> None:
    """Queued events take the generation's queue route; events with queue=False go direct."""
    caps = Capabilities.from_config(config)
    app = build_app(SRC, {**config, "dependencies": [{"id": 0, "queue": None}, {"id": 1, "queue": False}]}, None)
    queued, unqueued = app.endpoints
    assert caps.route_for(queued) is queued_route
    assert caps.route_for(unqueued) is Route.DIRECT


@pytest.mark.parametrize("text,expected", [("4.44.1", (4, 44, 1)), ("5.0.0b3", (5, 0, 0)), ("6", (6,)),
                                           (None, None), ("dev", None)])
def test_parse_version(text, expected) -> None:
    assert parse_version(text) == expected


def test_endpoints_and_visibility(app) -> None:
    by_name = {e.api_name: e for e in app.endpoints if e.api_name}
    assert by_name["/add"].fn_index == 0 and by_name["/add"].visibility == "public"
    assert by_name["/count"].is_generator
    assert by_name["/hidden"].visibility == "undocumented" and by_name["/hidden"].callable
    assert not by_name["/js_fn"].callable
    private = [e for e in app.endpoints if e.fn_index == 10][0]
    assert private.visibility == "private" and not private.callable
    assert app.api_url == SRC + app.capabilities.api_prefix


def test_endpoint_lookup(app) -> None:
    assert app.endpoint("/add").fn_index == 0
    assert app.endpoint(fn_index=1).api_name == "/count"
    assert app.endpoint("/hidden").fn_index == 9
    with pytest.raises(EndpointNotFoundError) as err:
        app.endpoint("/nope")
    assert "/add" in str(err.value) and "/nope" in str(err.value) and "/add" in err.value.valid
    assert app.endpoint("add").fn_index == 0  # the leading slash is optional here
    with pytest.raises(EndpointNotFoundError, match="fn_index 10"):
        app.endpoint(fn_index=10)
    with pytest.raises(EndpointNotFoundError, match="not callable"):
        app.endpoint("/js_fn")
    with pytest.raises(
        EndpointNotFoundError,
        match=r"^This Gradio app might have multiple endpoints\. Please specify an `api_name` or `fn_index` \(",
    ):
        app.endpoint()
    with pytest.raises(EndpointNotFoundError):
        app.endpoint(fn_index="3")  # type: ignore[arg-type]


def test_bind_positional_keyword_and_defaults(app) -> None:
    add = app.endpoint("/add")
    assert add.bind((1, 2), {}) == [1, 2]
    assert add.bind((), {"b": 5}) == [1, 5]  # a defaults to 1
    assert add.bind((3,), {"b": 4}) == [3, 4]
    assert app.endpoint("/count").bind((), {}) == [3]


def test_bind_errors_name_the_parameters(app) -> None:
    add = app.endpoint("/add")
    # the official client's words first, then which parameters
    with pytest.raises(
        ArgumentError,
        match=(
            r"^No value provided for required argument: b "
            r"\(/add is missing required argument 'b'; parameters: a, b\)$"
        ),
    ):
        add.bind((), {})
    with pytest.raises(
        ArgumentError,
        match=(
            r"^Parameter `c` is not a valid key-word argument\. "
            r".*unexpected keyword argument 'c'; its parameters are: a, b"
        ),
    ):
        add.bind((1, 2), {"c": 3})
    with pytest.raises(ArgumentError, match=r"takes 2 arguments \(a, b\) but 3 were given"):
        add.bind((1, 2, 3), {})
    with pytest.raises(
        ArgumentError,
        match=r"^Parameter `a` is already set as a positional argument\. .*multiple values for argument 'a'",
    ):
        add.bind((1,), {"a": 2})


def test_state_inputs_are_sent_as_null_and_state_outputs_dropped(app) -> None:
    incr = app.endpoint("/incr")
    assert incr.bind((), {}) == [None]
    assert incr.user_outputs([None, 3]) == 3
    count = app.endpoint("/count")
    assert count.user_outputs(["a", [1]]) == ("a", [1])


def test_describe_and_render(app) -> None:
    description = app.describe()
    named = description["named_endpoints"]
    assert "/hidden" not in named and "/add" in named
    params = named["/add"]["parameters"]
    assert [(p["parameter_name"], p["parameter_has_default"], p["parameter_default"]) for p in params] == [
        ("a", True, 1), ("b", False, None)]
    assert "/hidden" in app.describe(all_endpoints=True)["named_endpoints"]
    text = render_api(description)
    assert 'predict(a, b, api_name="/add") -> sum' in text
    assert "[Number] a: float (not required, defaults to:   1)" in text
    assert "[Number] b: float (required)" in text


def test_endpoints_without_info_are_described_from_components() -> None:
    app = build_app(SRC, captures.config("6.31.0"), None)
    add = app.endpoint("/add")
    assert not add.described
    assert [p.name for p in add.parameters] == ["a", "b"]
    assert add.bind((), {"b": 2}) == [1, 2]
