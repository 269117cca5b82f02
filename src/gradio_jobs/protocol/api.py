"""The app's endpoints, built from ``/config`` and ``/info``; choosing one; binding arguments.

Pure functions over the two JSON documents, as real servers of every generation serve them
(captured in ``tests/fixtures/captures``; the README's "Servers it speaks to" sums them up).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .._exceptions import ArgumentError, EndpointNotFoundError, ProtocolError
from .capabilities import Capabilities

__all__ = ["App", "Endpoint", "Parameter", "Visibility", "build_app"]

Visibility = Literal["public", "undocumented", "private"]

# Components that are never part of an endpoint's signature on servers that predate ``skip_api``.
_SKIP_API_TYPES = frozenset(
    [
        "state", "row", "column", "tabs", "tab", "tabitem", "box", "form", "accordion", "group",
        "interpretation", "dataset", "sidebar",
    ]
)
_MISSING = object()
#: The official client's advice after a refused keyword argument.
_SEE_USAGE = "Please click on 'view API' in the footer of the Gradio app to see usage."


@dataclass(frozen=True)
class Parameter:
    """One argument of an endpoint, as ``/info`` describes it (or its component, without ``/info``).

    ``name`` is the Python name keyword arguments use; ``label`` the component's label
    (None if it has none); ``has_default`` whether the argument may be omitted, and then
    ``default`` is the value sent for it; ``component`` the component's class name
    (``"Textbox"``); ``python_type`` the type ``/info`` gives as text (``"str"``, None when
    unknown); ``type_schema`` the JSON schema of the value (default None); ``description``
    ``/info``'s description of the type (default None); ``example`` an example input
    (default None).
    """

    name: str
    label: str | None
    has_default: bool
    default: Any
    component: str | None
    python_type: str | None
    type_schema: Any = None
    description: str | None = None
    example: Any = None


@dataclass(frozen=True)
class Return:
    """One output of an endpoint: ``label``, ``component``, ``python_type`` and ``type_schema``
    as for :class:`Parameter` (each None when unknown; ``type_schema`` defaults to None)."""

    label: str | None
    component: str | None
    python_type: str | None
    type_schema: Any = None


@dataclass(frozen=True)
class Endpoint:
    """One event handler of the app, as the client calls it (built by :func:`build_app`).

    ``fn_index`` is its position among the app's dependencies (the id on servers that send
    one); ``visibility`` says whether ``view_api`` shows it (``"public"``), hides it but
    allows calls (``"undocumented"``) or refuses calls (``"private"``); ``has_backend_fn``
    is False for front-end-only events; ``is_generator`` for functions that stream outputs;
    ``input_ids`` and ``output_ids`` are the component ids of ``data`` in and out;
    ``parameters`` and ``returns`` describe what the caller passes and gets. ``cancels``
    (default empty) lists the fn_indexes this event cancels (a stop button); ``queue``
    (default True) is False for events that bypass the queue; ``info`` (default empty) is
    the endpoint's raw ``/info`` entry; ``streams_inputs`` (default False) is True for a
    ``.stream`` listener the server runs as a stream of inputs (``connection: "stream"``,
    gradio 5 and later; the comment on the field says what the client does about it).
    """

    fn_index: int
    #: ``"/add"``; None for unnamed endpoints of old servers.
    api_name: str | None
    visibility: Visibility
    has_backend_fn: bool
    is_generator: bool
    input_ids: tuple[int, ...]
    output_ids: tuple[int, ...]
    #: Positions in ``data`` that hold a ``gr.State`` (sent as null, filled by the server).
    state_input_positions: frozenset[int]
    #: Positions in ``data`` that the user supplies, in order.
    api_input_positions: tuple[int, ...]
    #: Positions of outputs the user sees (State and other skip_api outputs are dropped).
    api_output_positions: tuple[int, ...]
    parameters: tuple[Parameter, ...]
    returns: tuple[Return, ...]
    #: Whether ``parameters`` come from ``/info`` (names and defaults are authoritative).
    described: bool
    cancels: tuple[int, ...] = ()
    queue: bool = True
    info: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: A ``.stream`` listener (a webcam or microphone filter) that the server runs as a stream of
    #: inputs: it answers each chunk with ``process_streaming`` and then waits, up to the event's
    #: ``time_limit``, for the next one. An API call sends one chunk, so its first output is its
    #: answer and the client ends the stream (``stream/<event_id>/close``). Older servers (3.x,
    #: 4.x) run ``.stream`` listeners as ordinary events: False there.
    streams_inputs: bool = False

    @property
    def callable(self) -> bool:
        """Whether the API may call it: it has a Python function and is not private."""
        return self.has_backend_fn and self.visibility != "private"

    @property
    def label(self) -> str:
        """How messages name it: its ``api_name``, else ``fn_index=N``."""
        return self.api_name or f"fn_index={self.fn_index}"

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any]:
        """The ``data`` list for ``queue/join``: one value per input, null for State.

        ``args`` are the caller's positional arguments, in parameter order; ``kwargs`` its
        keyword arguments, by parameter name. Omitted parameters take their defaults. Raises
        :class:`ArgumentError`, naming the parameters, for too many arguments, an unknown
        keyword, a value given twice or a missing required one; its message starts with the
        official client's words for the case (it has none for too many arguments).
        """
        params = self.parameters
        names = [p.name for p in params]
        signature = ", ".join(names) or "no arguments"
        if len(args) > len(params):
            raise ArgumentError(
                f"{self.label} takes {len(params)} argument{'s' if len(params) != 1 else ''} "
                f"({signature}) but {len(args)} were given"
            )
        values: list[Any] = list(args) + [_MISSING] * (len(params) - len(args))
        if kwargs and not self.described and not names:
            raise ArgumentError(
                f"This endpoint does not support key-word arguments {_SEE_USAGE} "
                f"({self.label} takes no keyword arguments)"
            )
        for key, value in kwargs.items():
            try:
                position = names.index(key)
            except ValueError:
                raise ArgumentError(
                    f"Parameter `{key}` is not a valid key-word argument. {_SEE_USAGE} "
                    f"({self.label} got an unexpected keyword argument {key!r}; its parameters are: {signature})"
                ) from None
            if values[position] is not _MISSING:
                raise ArgumentError(
                    f"Parameter `{key}` is already set as a positional argument. {_SEE_USAGE} "
                    f"({self.label} got multiple values for argument {key!r})"
                )
            values[position] = value
        missing = []
        for position, param in enumerate(params):
            if values[position] is _MISSING:
                if param.has_default:
                    values[position] = param.default
                else:
                    missing.append(param.name)
        if missing:
            listed = ", ".join(repr(name) for name in missing)
            raise ArgumentError(
                f"No value provided for required argument: {missing[0]} ({self.label} is missing required "
                f"argument{'s' if len(missing) > 1 else ''} {listed}; parameters: {signature})"
            )
        data: list[Any] = [None] * len(self.input_ids)
        for position, value in zip(self.api_input_positions, values, strict=True):
            data[position] = value
        return data

    def user_outputs(self, data: Sequence[Any]) -> Any:
        """What the caller sees of a full ``data`` list: State dropped, one output unwrapped.

        ``data`` is the server's list of output values, one per output component. The result
        is the one value of a single-output endpoint, else a tuple.
        """
        # If the lengths differ, trust the server over our model of it (e.g. after a hot reload).
        values = list(data) if len(data) != len(self.output_ids) else [data[i] for i in self.api_output_positions]
        if len(values) == 1:
            return values[0]
        return tuple(values)


@dataclass(frozen=True)
class App:
    """Everything known about the app from its ``/config`` and ``/info``.

    ``src`` is the app's root URL, with a trailing slash; ``config`` and ``info`` the two
    documents (``info`` empty when the server has no ``/info``); ``capabilities`` what the
    server's version can do; ``endpoints`` every event handler, in the order of the config.
    ``api_info`` (default None: not read) is the public ``/info?serialize=False``, the
    document the official client reads, from which ``view_api()`` builds its dict and text.
    """

    src: str
    config: Mapping[str, Any]
    capabilities: Capabilities
    endpoints: tuple[Endpoint, ...]
    info: Mapping[str, Any]
    api_info: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def api_url(self) -> str:
        """The URL the API routes hang from: ``src`` plus the server's API prefix."""
        return self.src + self.capabilities.api_prefix

    def callable_endpoints(self) -> list[Endpoint]:
        """The endpoints the API may call (see :attr:`Endpoint.callable`), in order."""
        return [e for e in self.endpoints if e.callable]

    def endpoint(self, api_name: str | None = None, fn_index: int | None = None) -> Endpoint:
        """Choose the endpoint a call names, by the same rules as ``gradio_client``.

        ``api_name`` (default None) names it, with or without the leading slash; ``fn_index``
        (default None) gives its index instead, or checks the one ``api_name`` names. With
        neither, an app with exactly one public named endpoint means that one. Raises
        :class:`EndpointNotFoundError`, listing the valid names, when nothing callable matches
        (its message starts with the official client's words for the case).
        """
        valid = [e for e in self.callable_endpoints() if e.api_name and e.visibility == "public"]
        valid_names = [e.api_name for e in valid if e.api_name]
        listing = ", ".join(valid_names) or "none"
        if api_name is not None:
            if not isinstance(api_name, str):
                raise EndpointNotFoundError(
                    f"Cannot find a function with `api_name`: {api_name}. (api_name must be a string, "
                    f"got {api_name!r}; valid endpoints: {listing})",
                    valid=valid_names,
                )
            wanted = api_name if api_name.startswith("/") else "/" + api_name
            for candidate in self.endpoints:
                if candidate.api_name == wanted:
                    if not candidate.callable:
                        raise EndpointNotFoundError(
                            f"Cannot find a function with `api_name`: {api_name}. (the endpoint {wanted!r} "
                            f"is not callable through the API: it is private or has no Python function; "
                            f"valid endpoints: {listing})",
                            valid=valid_names,
                        )
                    if fn_index is not None and fn_index != candidate.fn_index:
                        raise EndpointNotFoundError(
                            f"api_name {wanted!r} is fn_index {candidate.fn_index}, not {fn_index}",
                            valid=valid_names,
                        )
                    return candidate
            raise EndpointNotFoundError(
                f"Cannot find a function with `api_name`: {api_name}. (valid endpoints: {listing})",
                valid=valid_names,
            )
        if fn_index is not None:
            if isinstance(fn_index, bool) or not isinstance(fn_index, int):
                raise EndpointNotFoundError(
                    f"Invalid function index: {fn_index}. (fn_index must be an int, got {fn_index!r}; "
                    f"valid endpoints: {listing})",
                    valid=valid_names,
                )
            for candidate in self.endpoints:
                if candidate.fn_index == fn_index:
                    if not candidate.callable:
                        break
                    return candidate
            raise EndpointNotFoundError(
                f"Invalid function index: {fn_index}. (there is no callable endpoint with fn_index "
                f"{fn_index}; valid endpoints: {listing})",
                valid=valid_names,
            )
        if len(valid) == 1:
            return valid[0]
        raise EndpointNotFoundError(
            "This Gradio app might have multiple endpoints. Please specify an `api_name` or `fn_index` "
            f"(this app has {len(valid)} public named endpoints; valid endpoints: {listing})",
            valid=valid_names,
        )

    def describe(self, all_endpoints: bool = False) -> dict[str, Any]:
        """The API as ``view_api(return_format="dict")`` gives it (``/info``'s shape).

        ``all_endpoints`` (default False) includes the undocumented endpoints too; private
        ones are never listed.
        """
        named: dict[str, Any] = {}
        unnamed: dict[str, Any] = {}
        for e in self.callable_endpoints():
            if e.visibility != "public" and not all_endpoints:
                continue
            entry = {
                "parameters": [
                    {
                        "label": p.label,
                        "parameter_name": p.name,
                        "parameter_has_default": p.has_default,
                        "parameter_default": p.default,
                        "type": p.type_schema,
                        "python_type": {"type": p.python_type, "description": p.description or ""},
                        "component": p.component,
                        "example_input": p.example,
                    }
                    for p in e.parameters
                ],
                "returns": [
                    {
                        "label": r.label,
                        "type": r.type_schema,
                        "python_type": {"type": r.python_type, "description": ""},
                        "component": r.component,
                    }
                    for r in e.returns
                ],
                "fn_index": e.fn_index,
                "is_generator": e.is_generator,
                "visibility": e.visibility,
            }
            if e.api_name:
                named[e.api_name] = entry
            else:
                unnamed[str(e.fn_index)] = entry
        return {"named_endpoints": named, "unnamed_endpoints": unnamed}


def _visibility(dep: Mapping[str, Any]) -> Visibility:
    declared = dep.get("api_visibility")
    if declared in ("public", "undocumented", "private"):
        return cast(Visibility, declared)
    if dep.get("api_name") is False:
        return "private"
    if dep.get("show_api") is False:
        return "undocumented"
    return "public"


def _python_name(label: str | None, position: int, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", (label or "").strip().lower()).strip("_")
    if not base or base[0].isdigit() or keyword.iskeyword(base):
        base = f"param_{position}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _type_text(schema: Any) -> str | None:
    if isinstance(schema, dict):
        value = schema.get("type")
        if isinstance(value, str):
            return value
    return None


def build_app(src: str, config: Mapping[str, Any], info: Mapping[str, Any] | None) -> App:
    """Model the app from its ``/config`` and (if it has one) its ``/info?all_endpoints=True``.

    ``src`` is the app's root URL, with a trailing slash; ``config`` the parsed ``/config``;
    ``info`` the parsed ``/info`` or None where the server has none (the endpoints are then
    described from their components). Raises :class:`ProtocolError` for a ``/config`` that
    is not an app's.
    """
    if not isinstance(config, Mapping):
        raise ProtocolError("/config did not return a JSON object", payload=config)
    capabilities = Capabilities.from_config(dict(config))
    components: dict[int, Mapping[str, Any]] = {}
    for comp in config.get("components") or []:
        if isinstance(comp, Mapping) and isinstance(comp.get("id"), int):
            components[comp["id"]] = comp
    named_info = (info or {}).get("named_endpoints") or {}
    unnamed_info = (info or {}).get("unnamed_endpoints") or {}

    def skipped(component_id: int) -> bool:
        comp = components.get(component_id)
        if comp is None:
            return False
        if "skip_api" in comp:
            return bool(comp["skip_api"])
        return comp.get("type") in _SKIP_API_TYPES

    def is_state(component_id: int) -> bool:
        comp = components.get(component_id)
        return comp is not None and comp.get("type") == "state"

    endpoints: list[Endpoint] = []
    dependencies = config.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise ProtocolError("/config 'dependencies' is not a list", payload=dependencies)
    for position, dep in enumerate(dependencies):
        if not isinstance(dep, Mapping):
            continue
        fn_index = dep.get("id", position)
        if not isinstance(fn_index, int):
            fn_index = position
        raw_name = dep.get("api_name")
        api_name = "/" + raw_name if isinstance(raw_name, str) and raw_name else None
        input_ids = tuple(i for i in dep.get("inputs") or [] if isinstance(i, int))
        output_ids = tuple(i for i in dep.get("outputs") or [] if isinstance(i, int))
        api_inputs = tuple(p for p, cid in enumerate(input_ids) if not skipped(cid))
        api_outputs = tuple(p for p, cid in enumerate(output_ids) if not skipped(cid))
        entry = named_info.get(api_name) if api_name else unnamed_info.get(str(fn_index))
        parameters: list[Parameter] = []
        returns: list[Return] = []
        described = isinstance(entry, Mapping) and len(entry.get("parameters") or []) == len(api_inputs)
        if described:
            assert isinstance(entry, Mapping)
            taken: set[str] = set()
            for n, p in enumerate(entry.get("parameters") or []):
                python_type = p.get("python_type") or {}
                name = p.get("parameter_name")
                if not isinstance(name, str) or not name:
                    name = _python_name(p.get("label"), n, taken)
                taken.add(name)
                parameters.append(
                    Parameter(
                        name=name,
                        label=p.get("label"),
                        has_default=bool(p.get("parameter_has_default", False)),
                        default=p.get("parameter_default"),
                        component=p.get("component"),
                        python_type=python_type.get("type") if isinstance(python_type, Mapping) else None,
                        type_schema=p.get("type"),
                        description=python_type.get("description") if isinstance(python_type, Mapping) else None,
                        example=p.get("example_input"),
                    )
                )
            for r in entry.get("returns") or []:
                python_type = r.get("python_type") or {}
                returns.append(
                    Return(
                        label=r.get("label"),
                        component=r.get("component"),
                        python_type=python_type.get("type") if isinstance(python_type, Mapping) else None,
                        type_schema=r.get("type"),
                    )
                )
        else:
            # No /info entry: describe the signature from the components themselves.
            taken = set()
            for n, p in enumerate(api_inputs):
                comp = components.get(input_ids[p], {})
                props = comp.get("props") or {}
                label = props.get("label") if isinstance(props, Mapping) else None
                has_default = isinstance(props, Mapping) and "value" in props
                parameters.append(
                    Parameter(
                        name=_python_name(label, n, taken),
                        label=label,
                        has_default=has_default,
                        default=props.get("value") if has_default else None,
                        component=str(comp.get("type", "")).capitalize() or None,
                        python_type=_type_text(comp.get("api_info")),
                        type_schema=comp.get("api_info"),
                    )
                )
            for p in api_outputs:
                comp = components.get(output_ids[p], {})
                props = comp.get("props") or {}
                returns.append(
                    Return(
                        label=props.get("label") if isinstance(props, Mapping) else None,
                        component=str(comp.get("type", "")).capitalize() or None,
                        python_type=_type_text(comp.get("api_info")),
                        type_schema=comp.get("api_info"),
                    )
                )
        types = dep.get("types") or {}
        endpoints.append(
            Endpoint(
                fn_index=fn_index,
                api_name=api_name,
                visibility=_visibility(dep),
                has_backend_fn=bool(dep.get("backend_fn", True)),
                is_generator=bool(types.get("generator", False)) if isinstance(types, Mapping) else False,
                input_ids=input_ids,
                output_ids=output_ids,
                state_input_positions=frozenset(p for p, cid in enumerate(input_ids) if is_state(cid)),
                api_input_positions=api_inputs,
                api_output_positions=api_outputs,
                parameters=tuple(parameters),
                returns=tuple(returns),
                described=described,
                cancels=tuple(c for c in dep.get("cancels") or [] if isinstance(c, int)),
                queue=dep.get("queue") is not False,
                info=entry if isinstance(entry, Mapping) else {},
                streams_inputs=dep.get("connection") == "stream",
            )
        )
    return App(
        src=src,
        config=config,
        capabilities=capabilities,
        endpoints=tuple(endpoints),
        info=info or {},
    )
