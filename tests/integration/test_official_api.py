"""The public API of gradio_client 2.7.2, name by name and parameter by parameter, in gradio-jobs.

The official client is read where it is installed (the gradio 6.31.0 server venv, whose
``gradio_client`` is 2.7.2): a subprocess dumps the names and signatures of ``Client``,
``Job``, ``handle_file``, ``file``, ``FileData``, ``Status``, ``StatusUpdate``, the
``exceptions`` module and the ``utils`` names code imports; this test fails on anything
missing or incompatible in gradio-jobs:

- a name the official has and gradio-jobs lacks;
- a parameter that code could pass the official and not gradio-jobs: a positional one at
  another place or under another name, a keyword one not accepted (the clients' options
  count: ``Client(url, download_files=...)`` goes to ``ClientOptions``), a ``*args`` or
  ``**kwargs`` missing;
- a default that differs (but where the official default is computed from the machine,
  such as a temporary folder, only its presence is checked);
- an exception that is not also what the official raises (same builtin bases), a status
  member or field missing or out of order (dataclasses are built positionally).
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import typing
from typing import Any

import pytest
from official_client import run_official

import gradio_jobs
from gradio_jobs import exceptions as our_exceptions
from gradio_jobs import utils as our_utils
from gradio_jobs._options import ClientOptions

# The utils names code imports (README, the official tests and docs); the module's other
# names are its threads' internals.
UTILS_NAMES = [
    "Status", "StatusUpdate", "OutputUpdate", "ProgressUnit", "QueueError", "TooManyRequestsError",
    "SpaceDuplicationError", "handle_file", "file", "is_http_url_like",
]

DUMP = r"""
import dataclasses, enum, inspect, json, typing
import gradio_client
from gradio_client import Client, FileData, exceptions, file, handle_file, utils
from gradio_client.client import Job

def params(fn):
    out = []
    for p in inspect.signature(fn).parameters.values():
        default = None if p.default is p.empty else repr(p.default)
        out.append({"name": p.name, "kind": p.kind.name, "default": default})
    return out

def members(cls, extra=()):
    names = [n for n in vars(cls) if not n.startswith("_")] + list(extra)
    out = {}
    for name in names:
        value = inspect.getattr_static(cls, name)
        if isinstance(value, (classmethod, staticmethod)):
            out[name] = {"kind": type(value).__name__, "params": params(value.__func__)}
        elif isinstance(value, property):
            out[name] = {"kind": "property"}
        elif callable(value):
            out[name] = {"kind": "method", "params": params(value)}
    return out

def describe(obj):
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        return {"kind": "enum", "members": [m.name for m in obj]}
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        return {"kind": "dataclass", "fields": [f.name for f in dataclasses.fields(obj)]}
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        bases = [b.__name__ for b in obj.__mro__ if b.__module__ == "builtins" and b is not object]
        return {"kind": "exception", "bases": bases}
    if inspect.isclass(obj):
        return {"kind": "class"}
    if callable(obj):
        return {"kind": "function", "params": params(obj)}
    return {"kind": "value"}

print(json.dumps({
    "version": gradio_client.__version__,
    "Client": members(Client, ["__init__"]),
    "Job": members(Job, ["__init__", "__iter__", "__next__", "__aiter__"]),
    "top": {n: describe(getattr(gradio_client, n)) for n in gradio_client.__all__ if n != "__version__"},
    "FileData": list(typing.get_type_hints(FileData)),
    "exceptions": {n: describe(getattr(exceptions, n)) for n in dir(exceptions)
                   if inspect.isclass(getattr(exceptions, n)) and issubclass(getattr(exceptions, n), BaseException)
                   and getattr(exceptions, n).__module__ == exceptions.__name__},
    "utils": {n: describe(getattr(utils, n)) for n in UTILS_NAMES if hasattr(utils, n)},
}))
"""


@pytest.fixture(scope="module")
def official() -> dict[str, Any]:
    dump: dict[str, Any] = run_official(f"UTILS_NAMES = {UTILS_NAMES!r}\n{DUMP}", timeout=120)
    assert dump["version"] == "2.7.2"
    return dump


# Public by name, but the official's thread plumbing, with no meaning here: ``send_data``
# posts a join for one of its ``Communicator`` objects, ``stream_messages`` is the body of its
# stream-reader thread, ``new_helper`` makes a ``Communicator`` (the README lists them).
THREAD_PLUMBING = {"send_data", "stream_messages", "new_helper"}
# Parameters the official computes from the machine (a temporary folder): presence only.
MACHINE_DEFAULTS = {"download_files"}
# Parameters of the official's that are its own internals (a leading underscore).
PRIVATE = "_"


def accepts_keyword(ours: inspect.Signature, name: str, option_fields: set[str]) -> bool:
    parameter = ours.parameters.get(name)
    if parameter is not None:
        return parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    return name in option_fields


def incompatibilities(where: str, official: list[dict[str, Any]], ours_fn: Any, option_fields: set[str]) -> list[str]:
    ours = inspect.signature(ours_fn)
    ours_params = list(ours.parameters.values())
    problems = []
    for index, param in enumerate(official):
        name, kind = param["name"], param["kind"]
        if name.startswith(PRIVATE) or name in ("self", "cls"):
            continue
        if kind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            if not any(p.kind.name == kind for p in ours_params):
                problems.append(f"{where}: no {'*' if kind == 'VAR_POSITIONAL' else '**'}{name}")
            continue
        if kind == "POSITIONAL_OR_KEYWORD":
            if index >= len(ours_params) or ours_params[index].name != name or ours_params[index].kind.name != kind:
                got = ours_params[index].name if index < len(ours_params) else "nothing"
                problems.append(f"{where}: positional parameter {index} is {got!r}, official {name!r}")
                continue
        elif not accepts_keyword(ours, name, option_fields):
            problems.append(f"{where}: keyword {name!r} not accepted")
            continue
        if param["default"] is None or name in MACHINE_DEFAULTS:
            continue
        ours_param = ours.parameters.get(name)
        if ours_param is not None:
            ours_default = None if ours_param.default is ours_param.empty else repr(ours_param.default)
        else:
            option = next(f for f in dataclasses.fields(ClientOptions) if f.name == name)
            made = option.default_factory() if option.default_factory is not dataclasses.MISSING else option.default
            # an empty container made afresh for each client is the official's None ("none")
            ours_default = "None" if made in ({}, [], ()) else repr(made)
        if ours_default != param["default"]:
            problems.append(f"{where}: {name} defaults to {ours_default}, official {param['default']}")
    return problems


def test_the_client_has_every_method_and_parameter(official) -> None:
    options = {f.name for f in dataclasses.fields(ClientOptions)}
    problems = []
    for name, spec in official["Client"].items():
        if name in THREAD_PLUMBING:
            continue
        ours = inspect.getattr_static(gradio_jobs.Client, name, None)
        if ours is None:
            problems.append(f"Client.{name} is missing")
            continue
        if spec["kind"] == "property":
            continue
        if spec["kind"] in ("classmethod", "staticmethod"):
            if not isinstance(ours, (classmethod, staticmethod)):
                problems.append(f"Client.{name} is not a {spec['kind']}")
                continue
            ours = ours.__func__
        problems += incompatibilities(f"Client.{name}", spec["params"], ours, options if name == "__init__" else set())
    assert not problems, "\n".join(problems)


def test_the_job_has_every_method_and_parameter(official) -> None:
    problems = []
    for name, spec in official["Job"].items():
        if name == "__init__":
            continue  # made by the client, never by the user
        ours = inspect.getattr_static(gradio_jobs.Job, name, None)
        if ours is None:
            problems.append(f"Job.{name} is missing")
        elif spec["kind"] == "method":
            problems += incompatibilities(f"Job.{name}", spec["params"], ours, set())
    assert not problems, "\n".join(problems)


def test_the_package_exports_every_official_name(official) -> None:
    problems = []
    for name, spec in official["top"].items():
        ours = getattr(gradio_jobs, name, None)
        if ours is None:
            problems.append(f"gradio_jobs.{name} is missing")
        elif spec["kind"] == "function":
            problems += incompatibilities(name, spec["params"], ours, set())
    assert not problems, "\n".join(problems)
    assert list(typing.get_type_hints(gradio_jobs.FileData)) == official["FileData"]


def test_the_exceptions_module_has_every_official_error_with_its_bases(official) -> None:
    problems = []
    for name, spec in official["exceptions"].items():
        ours = getattr(our_exceptions, name, None)
        if ours is None:
            problems.append(f"gradio_jobs.exceptions.{name} is missing")
            continue
        for base in spec["bases"]:
            if not issubclass(ours, getattr(builtins, base)):
                problems.append(f"gradio_jobs.exceptions.{name} is no {base}")
    assert not problems, "\n".join(problems)


def test_utils_has_the_names_code_imports(official) -> None:
    problems = []
    for name, spec in official["utils"].items():
        ours = getattr(our_utils, name, None)
        if ours is None:
            problems.append(f"gradio_jobs.utils.{name} is missing")
        elif spec["kind"] == "enum":
            missing = [m for m in spec["members"] if m not in ours.__members__]
            if missing:
                problems.append(f"utils.{name} lacks {missing}")
        elif spec["kind"] == "dataclass":
            fields = [f.name for f in dataclasses.fields(ours)]
            if fields[: len(spec["fields"])] != spec["fields"]:
                problems.append(f"utils.{name} fields {fields}, official {spec['fields']} first")
        elif spec["kind"] == "exception":
            problems += [f"utils.{name} is no {b}" for b in spec["bases"] if not issubclass(ours, getattr(builtins, b))]
        elif spec["kind"] == "function":
            problems += incompatibilities(f"utils.{name}", spec["params"], ours, set())
    assert not problems, "\n".join(problems)
    assert set(official["utils"]) == set(UTILS_NAMES), "a name of UTILS_NAMES is not in gradio_client.utils"
