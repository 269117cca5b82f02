"""The official client's error types, texts and import paths, checked against gradio_client 2.7.2.

The official client is installed beside gradio-jobs (the test extra pins gradio 6.31.0, which
brings it). Where a piece of it can run without a server (``construct_args``,
``handle_file``, ``extract_validation_message``, ``AppError``) it runs here; its other
messages are read from its source (the ``raise`` statements, f-strings evaluated with the
case's values), never copied by hand. Real servers: tests/integration/test_official_errors.py.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import ssl
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import gradio_client
import gradio_client.client
import gradio_client.data_classes
import gradio_client.exceptions
import gradio_client.utils
import httpx
import pytest

import gradio_jobs
from gradio_jobs import (
    AppError,
    ArgumentError,
    AuthenticationError,
    EndpointNotFoundError,
    FileTooLargeError,
    GradioJobsError,
    InputFileError,
    QueueError,
    QueueFullError,
    SerializationSetupError,
    ServerError,
    ServerUnreachableError,
    SpaceNotFoundError,
    SpaceUnavailableError,
    TooManyRequestsError,
    ValidationError,
)
from gradio_jobs._spaces import unavailable_error
from gradio_jobs.protocol import messages as m
from gradio_jobs.protocol.api import build_app
from gradio_jobs.protocol.capabilities import Capabilities
from gradio_jobs.protocol.job import app_error_from
from gradio_jobs.protocol.responses import raise_for_status, read_join
from gradio_jobs.transport.errors import (
    FileAccessError,
    FileDownloadError,
    check_download,
    httpx_text,
    unreachable_error,
)
from gradio_jobs.transport.files import _open_input
from tests.fixtures import captures

SRC = "http://127.0.0.1:7860/"


# -- reading the official client's messages from its source ------------------------------------


@functools.cache
def _strings(module: Any) -> list[tuple[str, ast.expr]]:
    """Every string expression (a literal, or a whole f-string) in ``module``'s source, with
    its source text."""
    lines = inspect.getsource(module).splitlines(keepends=True)
    tree = ast.parse("".join(lines))
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        is_string = isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))
        if is_string and id(node) not in parts and node.end_lineno is not None and node.end_col_offset is not None:
            assert isinstance(node, ast.expr)
            text = "".join(lines[node.lineno - 1:node.end_lineno])
            found.append((text, node))
    return found


def official_message(module: Any, fragment: str, **names: Any) -> str:
    """The one string (a literal or an f-string) in ``module``'s source whose source text
    contains ``fragment``, evaluated with ``names`` (``self`` may be given as a dict of its
    attributes)."""
    found = [node for text, node in _strings(module) if fragment in text]
    assert len(found) == 1, f"expected one string containing {fragment!r} in {module.__name__}, found {len(found)}"
    scope = {k: (type("Self", (), v)() if k == "self" and isinstance(v, dict) else v) for k, v in names.items()}
    return eval(compile(ast.Expression(found[0]), module.__name__, "eval"), {}, scope)


def test_the_source_reader_finds_what_it_is_asked_for() -> None:
    assert official_message(gradio_client.utils, "does not exist on local", s="x") == (
        "File x does not exist on local filesystem and is not a valid URL."
    )
    with pytest.raises(AssertionError):
        official_message(gradio_client.utils, "no such message in the official client")


# -- types -------------------------------------------------------------------------------------


def _official_builtin_bases(official: type) -> list[type]:
    return [c for c in official.__mro__ if c.__module__ == "builtins" and c not in (object, BaseException)]


@pytest.mark.parametrize(
    "ours,official",
    [
        (AppError, gradio_client.exceptions.AppError),
        (AuthenticationError, gradio_client.exceptions.AuthenticationError),
        (ValidationError, gradio_client.exceptions.ValidationError),
        (SerializationSetupError, gradio_client.exceptions.SerializationSetupError),
        (QueueError, gradio_client.utils.QueueError),
        (TooManyRequestsError, gradio_client.utils.TooManyRequestsError),
        (gradio_jobs.SpaceDuplicationError, gradio_client.utils.SpaceDuplicationError),
    ],
)
def test_each_official_error_class_has_a_twin_with_its_bases(ours: type, official: type) -> None:
    assert ours.__name__ == official.__name__ or (ours, official.__name__) == (QueueFullError, "QueueError")
    assert issubclass(ours, GradioJobsError)
    assert all(issubclass(ours, base) for base in _official_builtin_bases(official)), official.__mro__


def test_authentication_error_is_a_value_error_and_still_a_server_error() -> None:
    assert issubclass(AuthenticationError, ValueError) and issubclass(AuthenticationError, ServerError)


@pytest.mark.parametrize(
    "ours,official",
    [
        (SpaceNotFoundError, ValueError),  # "Could not find Space: ..."
        (SpaceUnavailableError, ValueError),  # "The current space is in the invalid state: ..."
        (EndpointNotFoundError, ValueError),  # "Cannot find a function with `api_name`: ..."
        (FileTooLargeError, ValueError),  # "File ... exceeds the maximum file size ..."
        (InputFileError, ValueError),  # handle_file: "File ... does not exist on local filesystem ..."
        (InputFileError, FileNotFoundError),  # gradio-jobs' own, kept
        (ServerUnreachableError, ConnectionError),  # gradio-jobs' own, kept
    ],
)
def test_errors_the_official_raises_as_builtins_are_those_builtins(ours: type, official: type) -> None:
    assert issubclass(ours, official) and issubclass(ours, GradioJobsError)


# -- AppError ----------------------------------------------------------------------------------


def test_app_error_constructor_is_the_official_one_plus_keyword_only_extras() -> None:
    ours = inspect.signature(AppError).parameters
    official = inspect.signature(gradio_client.exceptions.AppError).parameters
    positional = [p for p in ours.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [(p.name, p.default) for p in positional] == [(p.name, p.default) for p in official.values()]
    assert all(p.kind is p.KEYWORD_ONLY for p in ours.values() if p not in positional)


FIELDS = ("message", "title", "duration", "visible", "print_exception")


@pytest.mark.parametrize(
    "args,kwargs",
    [((), {}), (("bad input",), {}), (("m", 5, False, "Oops", False), {}), ((), {"message": "x", "duration": None})],
)
def test_app_error_is_built_like_the_official_one(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ours = AppError(*args, **kwargs)
    official = gradio_client.exceptions.AppError(*args, **kwargs)
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(official, f) for f in FIELDS}
    assert str(ours) == str(official) and ours.args == official.args
    assert not ours.hidden and ours.job_id is None


def _completion(capture: str) -> tuple[dict[str, Any], m.Completed]:
    raw = next(msg for msg in captures.messages(capture) if msg.get("msg") == "process_completed")
    decoded = m.decode_message(json.dumps(raw))
    assert isinstance(decoded, m.Completed) and decoded.error is not None
    return raw["output"], decoded


@pytest.mark.parametrize("capture", ["fail4", "fail5", "fail6", "fail6e", "crash6e"])
def test_app_error_fields_come_from_the_server_as_in_the_official_client(capture: str) -> None:
    output, completed = _completion(capture)
    version = {"4": "4.44.1", "5": "5.50.0", "6": "6.31.0"}[capture.rstrip("e")[-1]]
    caps = Capabilities.from_config(captures.config(version))
    ours = app_error_from(completed.error or {}, caps, job_id=completed.event_id)
    fields = dict(output)  # what the official client does with the server's output
    official = gradio_client.exceptions.AppError(message=fields.pop("error"), **fields)
    expected = {f: getattr(official, f) for f in FIELDS}
    if caps.quoted_error_messages:  # 4.x quotes the message; gradio-jobs unquotes it (README)
        expected["message"] = ast.literal_eval(expected["message"])
    assert {f: getattr(ours, f) for f in FIELDS} == expected
    assert str(ours) == expected["message"] and not ours.hidden and ours.job_id == completed.event_id


@pytest.mark.parametrize("capture", ["crash4", "crash5", "crash6"])
def test_a_hidden_error_says_what_the_official_client_says(capture: str) -> None:
    _, completed = _completion(capture)
    caps = Capabilities.from_config(captures.config("6.31.0"))
    ours = app_error_from(completed.error or {}, caps)
    text = official_message(gradio_client.client, "verbose error reporting")
    official = gradio_client.exceptions.AppError(text)
    assert ours.hidden and str(ours) == str(official) == ours.message
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(official, f) for f in FIELDS}


# -- binding arguments and choosing endpoints ---------------------------------------------------


@pytest.fixture
def app():
    return build_app(SRC, captures.config("6.31.0"), captures.info("6.31.0"))


def _official_binding_error(params: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    try:
        gradio_client.utils.construct_args(params, args, kwargs)
    except Exception as exc:
        return exc
    raise AssertionError("gradio_client accepted the arguments")


@pytest.mark.parametrize(
    "args,kwargs",
    [((), {}), ((1, 2), {"c": 3}), ((1,), {"a": 2}), ((), {"a": 1, "c": 3})],
    ids=["missing", "unknown keyword", "already positional", "unknown keyword among known"],
)
def test_binding_errors_start_with_the_official_words(app, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    official = _official_binding_error(captures.info("6.31.0")["named_endpoints"]["/add"]["parameters"], args, kwargs)
    with pytest.raises(ArgumentError) as caught:
        app.endpoint("/add").bind(args, kwargs)
    assert isinstance(caught.value, type(official))
    assert str(caught.value).startswith(str(official) + " (")  # then gradio-jobs' detail


def test_keywords_to_an_endpoint_without_parameter_names(app) -> None:
    # /incr takes only a gr.State: no parameter the caller could name
    official = _official_binding_error(None, (), {"x": 1})
    bare = build_app(SRC, captures.config("6.31.0"), None)
    with pytest.raises(ArgumentError) as caught:
        bare.endpoint("/incr").bind((), {"x": 1})
    assert isinstance(caught.value, type(official)) and isinstance(caught.value, TypeError)
    assert str(caught.value).startswith(str(official) + " (")


@pytest.mark.parametrize(
    "call,fragment,names",
    [
        ({"api_name": "/nope"}, "Cannot find a function", {"api_name": "/nope"}),
        ({"api_name": "/priv"}, "Cannot find a function", {"api_name": "/priv"}),  # private
        ({"fn_index": 99}, "Invalid function index", {"fn_index": 99}),
        ({}, "might have multiple endpoints", {}),
    ],
)
def test_endpoint_errors_start_with_the_official_words(app, call: dict[str, Any], fragment: str, names) -> None:
    official = official_message(gradio_client.client, fragment, **names)
    with pytest.raises(EndpointNotFoundError) as caught:
        app.endpoint(**call)
    assert str(caught.value).startswith(official + " (")
    assert "/add" in str(caught.value)  # the valid ones are listed


# -- files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["no/such/file.txt", "/no/such/file.txt"])
def test_handle_file_on_a_missing_file(missing: str) -> None:
    with pytest.raises(ValueError) as official:
        gradio_client.handle_file(missing)
    with pytest.raises(InputFileError) as ours:
        gradio_jobs.handle_file(missing)
    assert isinstance(ours.value, ValueError) and isinstance(ours.value, FileNotFoundError)
    assert str(ours.value).startswith(str(official.value) + " (")


def test_file_is_the_deprecated_alias_with_the_official_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    with pytest.warns(Warning) as official:
        expected = gradio_client.file(str(path))
    with pytest.warns(Warning) as ours:
        value = gradio_jobs.file(str(path))
    assert [(w.category, str(w.message)) for w in ours] == [(w.category, str(w.message)) for w in official]
    assert ours[0].filename == __file__  # it points at the caller
    assert value == gradio_jobs.handle_file(str(path)) and value["path"] == expected["path"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning):
            gradio_jobs.file(str(path))


def test_a_too_large_upload_says_what_the_official_client_says(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 3000)
    official = official_message(
        gradio_client.client, "exceeds the maximum file size",
        file_path=str(big), max_file_size=1024, component_config={},  # its label lookup always finds none
    )
    with pytest.raises(FileTooLargeError) as caught:
        _open_input(str(big), "big.bin", 1024)
    assert str(caught.value).startswith(official + " (")
    assert (caught.value.size, caught.value.limit) == (3000, 1024)


def test_a_refused_file_is_the_official_http_status_error() -> None:
    request = httpx.Request("GET", SRC + "gradio_api/file=/etc/hostname")
    response = httpx.Response(403, request=request, json={"detail": "File not allowed: /etc/hostname."})
    with pytest.raises(httpx.HTTPStatusError) as official:
        response.raise_for_status()  # what the official client lets through
    with pytest.raises(FileAccessError) as caught:
        check_download(response, "Downloading 'hostname'")
    error = caught.value
    assert isinstance(error, httpx.HTTPStatusError) and isinstance(error, ServerError)
    assert isinstance(error, GradioJobsError) and not isinstance(error, AuthenticationError)
    assert str(error).startswith(str(official.value) + "\n(")
    assert "File not allowed" in str(error)
    assert error.response is response and error.request is request and error.status_code == 403


def test_other_refusals_of_a_download_are_httpx_status_errors_too() -> None:
    request = httpx.Request("GET", SRC + "file=x")
    for status in (401, 404, 500):
        with pytest.raises(FileDownloadError) as caught:
            check_download(httpx.Response(status, request=request), "Downloading 'x'")
        assert isinstance(caught.value, httpx.HTTPStatusError) and isinstance(caught.value, ServerError)
        assert not isinstance(caught.value, FileAccessError)
        assert caught.value.status_code == status
    check_download(httpx.Response(200, request=request), "Downloading 'x'")  # no error


# -- HTTP answers ---------------------------------------------------------------------------------


def test_queue_full_says_what_the_official_client_says() -> None:
    official = official_message(gradio_client.client, "Queue is full")
    with pytest.raises(QueueFullError) as caught:
        read_join(503, b'{"detail": "Queue is full."}')
    assert str(caught.value).startswith(official + " (")
    assert str(QueueFullError()) == official


def test_too_many_requests_says_what_the_official_client_says() -> None:
    official = official_message(gradio_client.client, 'please try again later."')
    with pytest.raises(TooManyRequestsError) as caught:
        raise_for_status(429, b"slow down", "Loading the app's config")
    assert str(caught.value).startswith(official + " (")


def test_validation_message_is_the_official_one() -> None:
    detail = [
        {"__type__": "validate", "is_valid": False, "message": "word too short", "parameter_name": "word"},
        {"__type__": "validate", "is_valid": True, "message": "", "parameter_name": "other"},
        {"__type__": "validate", "is_valid": False, "message": "bad"},
    ]
    body = json.dumps({"detail": detail}).encode()
    official = gradio_client.utils.extract_validation_message(httpx.Response(422, content=body))
    with pytest.raises(ValidationError) as caught:
        read_join(422, body)
    assert str(caught.value) == official
    assert caught.value.errors == {"word": "word too short", "parameter_2": "bad"}


def test_an_invalid_space_state_says_what_the_official_client_says() -> None:
    official = official_message(gradio_client.client, "invalid state", state="PAUSED")
    error = unavailable_error("a/b", "PAUSED", "https://huggingface.co/spaces/a/b")
    assert isinstance(error, ValueError) and str(error).startswith(official + " (")


# -- unreachable servers --------------------------------------------------------------------------


_HTTPX_FAILURES = [
    httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout,
    httpx.ReadError, httpx.WriteError, httpx.CloseError, httpx.RemoteProtocolError, httpx.LocalProtocolError,
    httpx.ProxyError, httpx.UnsupportedProtocol,
]


@pytest.mark.parametrize("kind", _HTTPX_FAILURES, ids=lambda k: k.__name__)
def test_an_unreachable_server_is_also_the_httpx_error_of_the_failure(kind: type[httpx.TransportError]) -> None:
    request = httpx.Request("GET", SRC + "config")
    failure = kind("it failed", request=request)
    error = unreachable_error(failure, "it failed (Loading the app's config: ...)", request_sent=False)
    assert isinstance(error, kind) and isinstance(error, ServerUnreachableError)
    assert isinstance(error, ConnectionError) and isinstance(error, GradioJobsError)
    assert error.request is request and error.request_sent is False
    assert str(error) == "it failed (Loading the app's config: ...)"
    # only the httpx class of the failure: a read timeout is no connect error
    others = [k for k in _HTTPX_FAILURES if not issubclass(kind, k) and not issubclass(k, kind)]
    assert not any(isinstance(error, k) for k in others)


def test_an_unreachable_error_without_its_request_still_works() -> None:
    error = unreachable_error(httpx.ConnectError("refused"), "refused")
    assert error.request_sent is True
    with pytest.raises(RuntimeError):  # as for httpx's own error without a request
        _ = error.request


def test_a_refused_connection_is_worded_as_the_sync_httpx_of_the_official_client() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    attempts = OSError("All connection attempts failed")
    attempts.__cause__ = refused
    failure = httpx.ConnectError("All connection attempts failed")
    failure.__cause__ = attempts
    assert httpx_text(failure) == f"[Errno 111] {os.strerror(111)}"
    # a TLS failure is an OS error too, but reads the same in both stacks: kept as it is
    tls = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    failure = httpx.ConnectError(str(tls))
    failure.__cause__ = tls
    assert httpx_text(failure) == str(tls)
    assert httpx_text(httpx.ReadTimeout("")) == "ReadTimeout"
    assert httpx_text(httpx.ReadTimeout("read timed out")) == "read timed out"


# -- import paths ---------------------------------------------------------------------------------


def test_the_official_top_level_names_are_there() -> None:
    assert set(gradio_client.__all__) <= set(gradio_jobs.__all__)
    added = ("file", "FileData", "utils", "exceptions", "data_classes", "FileAccessError", "SerializationSetupError")
    for name in added:
        assert name in gradio_jobs.__all__ and getattr(gradio_jobs, name) is not None


def test_utils_names_are_official_names_and_the_package_s_own_objects() -> None:
    from gradio_jobs import utils

    assert set(utils.__all__) <= set(dir(gradio_client.utils))  # nothing invented
    for name in ("Status", "StatusUpdate", "ProgressUnit", "QueueError", "TooManyRequestsError", "handle_file", "file"):
        assert name in utils.__all__ and getattr(utils, name) is getattr(gradio_jobs, name)
    assert utils.OutputUpdate.__name__ == "OutputUpdate"
    assert [s.name for s in utils.Status] == [s.name for s in gradio_client.utils.Status]


@pytest.mark.parametrize(
    "value", ["http://x", "https://x/y", "HTTP://x", "ftp://x", "/tmp/x", "", None, 3, b"http://x", "http:/x"]
)
def test_is_http_url_like_is_the_official_one(value: Any) -> None:
    from gradio_jobs.utils import is_http_url_like

    assert is_http_url_like(value) is gradio_client.utils.is_http_url_like(value)


def test_exceptions_module_has_every_official_exception() -> None:
    from gradio_jobs import exceptions

    official = {
        n for n, v in vars(gradio_client.exceptions).items() if isinstance(v, type) and issubclass(v, Exception)
    }
    assert official <= set(exceptions.__all__)
    for name in official:
        assert getattr(exceptions, name) is getattr(gradio_jobs, name)
    assert exceptions.FileAccessError is gradio_jobs.FileAccessError is FileAccessError
    with pytest.raises(AttributeError):
        _ = exceptions.NoSuchError  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["FileData", "ParameterInfo"])
def test_data_classes_have_the_official_shape(name: str) -> None:
    from gradio_jobs import data_classes

    ours, official = getattr(data_classes, name), getattr(gradio_client.data_classes, name)
    # (the official module's NotRequired is in string annotations, which TypedDict does not read)
    declared = {k: getattr(a, "__forward_arg__", str(a)) for k, a in official.__annotations__.items()}
    optional = {k for k, a in declared.items() if a.startswith("NotRequired[")}
    assert ours.__required_keys__ == set(official.__annotations__) - optional
    assert ours.__optional_keys__ == optional
    assert gradio_jobs.FileData is data_classes.FileData


def test_serialization_setup_error_is_never_raised_but_importable() -> None:
    from gradio_jobs.exceptions import SerializationSetupError as imported

    assert imported is SerializationSetupError and "never raises it" in (SerializationSetupError.__doc__ or "")


def test_the_official_import_paths_load_no_http_stack_until_an_httpx_error_is_asked_for() -> None:
    code = (
        "import sys\n"
        "import gradio_jobs, gradio_jobs.utils, gradio_jobs.exceptions, gradio_jobs.data_classes\n"
        "from gradio_jobs.exceptions import AppError, AuthenticationError, ValidationError, SerializationSetupError\n"
        "from gradio_jobs.utils import Status, StatusUpdate, QueueError, TooManyRequestsError, handle_file, file\n"
        "from gradio_jobs import FileData, file\n"
        "before = 'httpx' in sys.modules\n"
        "error = gradio_jobs.FileAccessError\n"
        "import httpx\n"
        "print(before, issubclass(error, httpx.HTTPStatusError))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "True"]
