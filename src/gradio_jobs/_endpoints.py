"""``client.endpoints``: each endpoint as ``gradio_client.client.Endpoint`` shows it.

Code written for ``gradio_client`` reads the official ``Endpoint`` objects' public attributes
(``api_name``, ``is_valid``, ``root_url``, ``parameters_info``, ...). :class:`Endpoint` here is a
read-only view with the same attributes and the same values, computed from what the client
already read (the app's ``/config`` and public ``/info?serialize=False``) by the official
rules, and over it gradio-jobs' own model of the endpoint (``model``; its fields and methods
are reachable on the view too: ``parameters``, ``label``, ``visibility``, ...).

No I/O happens here. Both clients' ``endpoints`` properties call :func:`endpoint_views`, which
builds the views of one client once per app model and hands out the same dict afterwards.
"""

from __future__ import annotations

import threading
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .protocol.api import App
from .protocol.api import Endpoint as EndpointModel
from .protocol.view import api_info_of_app

__all__ = ["ComponentApiType", "Endpoint", "endpoint_views"]

C = TypeVar("C")

#: Component types that are not part of an endpoint's API when the config does not say
#: (``skip_api``), as ``gradio_client.utils.SKIP_COMPONENTS`` lists them.
_SKIPPED_TYPES = frozenset(
    [
        "state", "row", "column", "tabs", "tab", "tabitem", "box", "form", "accordion", "group",
        "interpretation", "dataset", "sidebar",
    ]
)
_FILE_DATA = "gradio.FileData"


@dataclass
class ComponentApiType:
    """How an endpoint treats one of its input or output components, as
    ``gradio_client.client.ComponentApiType`` says it.

    ``skip`` is True for a component that is not part of the API (a ``gr.State``, a layout
    block: its ``skip_api``, or its type where the config does not say); ``value_is_file`` is
    True when the component's value schema (``api_info``) holds a file anywhere; ``is_state``
    is True for a ``gr.State``.
    """

    skip: bool
    value_is_file: bool
    is_state: bool


# -- the official rules, over the config and /info ---------------------------------------------


def _resolve(schema: Any, defs: Mapping[str, Any]) -> Any:
    """``schema``, or the definition its ``$ref`` names when ``defs`` has it."""
    if isinstance(schema, Mapping) and "$ref" in schema:
        name = str(schema["$ref"]).split("/")[-1]
        if name in defs:
            return defs[name]
    return schema


def _is_file_schema(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> bool:
    """A schema of a file value: ``path`` and a ``meta`` whose ``_type`` is FileData's."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or "path" not in properties or "meta" not in properties:
        return False
    meta = _resolve(properties["meta"], defs)
    if not isinstance(meta, Mapping):
        return False
    meta_properties = meta.get("properties")
    if isinstance(meta_properties, Mapping) and "_type" in meta_properties:
        type_schema = meta_properties["_type"]
        return isinstance(type_schema, Mapping) and type_schema.get("const") == _FILE_DATA
    default = meta.get("default", {})
    return isinstance(default, Mapping) and default.get("_type") == _FILE_DATA


def _holds_file(schema: Any, defs: Mapping[str, Any], followed: frozenset[str] = frozenset()) -> bool:
    """Whether the JSON schema ``schema`` has a file schema anywhere in it (``$defs`` aside),
    following ``$ref``s into ``defs`` (each at most once on a path: a recursive schema ends)."""
    if isinstance(schema, list):
        return any(_holds_file(item, defs, followed) for item in schema)
    if not isinstance(schema, Mapping):
        return False
    if "$ref" in schema:
        name = str(schema["$ref"]).split("/")[-1]
        if name in defs and name not in followed:
            return _holds_file(defs[name], defs, followed | {name})
        return False
    if _is_file_schema(schema, defs):
        return True
    return any(
        _holds_file(value, defs, followed)
        for key, value in schema.items()
        if key != "$defs" and isinstance(value, (Mapping, list))
    )


def _component_api_type(component: Mapping[str, Any] | None) -> ComponentApiType:
    """The :class:`ComponentApiType` of a component of the config (None: not in the config)."""
    if component is None:
        return ComponentApiType(skip=False, value_is_file=False, is_state=False)
    kind = component.get("type")
    skip = component.get("skip_api", kind in _SKIPPED_TYPES)
    schema = component.get("api_info")
    is_file = False
    if isinstance(schema, Mapping):
        defs = schema.get("$defs")
        is_file = _holds_file(schema, defs if isinstance(defs, Mapping) else {})
    return ComponentApiType(skip=bool(skip), value_is_file=is_file, is_state=kind == "state")


def _official_visibility(dependency: Mapping[str, Any]) -> tuple[bool, str]:
    """``(is_valid, api_visibility)`` of a config dependency, by ``gradio_client``'s rules: the
    declared ``api_visibility`` (gradio 6) decides; before it, ``api_name: false`` is private
    and ``show_api: false`` undocumented."""
    if "api_visibility" in dependency:
        declared = dependency["api_visibility"]
        return declared != "private", declared
    if dependency.get("api_name") is False:
        return False, "private"
    if dependency.get("show_api") is False:
        return True, "undocumented"
    return True, "public"


def _root_url(src: str, config: Mapping[str, Any]) -> str:
    """The URL the app's API routes hang from, as ``gradio_client`` joins it: ``src`` with the
    config's ``api_prefix`` (``<src>gradio_api/`` on 5.x and 6.x; without a prefix, the root
    of ``src``'s host, where the official client resolves ``"/"``)."""
    prefix = config.get("api_prefix") or ""
    relative = str(prefix).lstrip("/") + "/"
    return urllib.parse.urljoin(src, relative).rstrip("/") + "/"


class _AppFacts:
    """What every view of one app shares, computed once per app model."""

    def __init__(self, app: App) -> None:
        config = app.config
        self.src = app.src
        self.root_url = _root_url(app.src, config)
        protocol = config.get("protocol", "ws")
        self.protocol = protocol if isinstance(protocol, str) else "ws"
        self.components: dict[int, Mapping[str, Any]] = {}
        for component in config.get("components") or []:
            if isinstance(component, Mapping) and isinstance(component.get("id"), int):
                self.components.setdefault(component["id"], component)
        self.dependencies: dict[int, dict[str, Any]] = {}
        for position, dependency in enumerate(config.get("dependencies") or []):
            if not isinstance(dependency, dict):
                continue
            key = dependency.get("id", position)
            self.dependencies.setdefault(key if isinstance(key, int) else position, dependency)
        named = api_info_of_app(app).get("named_endpoints")
        self.named: Mapping[str, Any] = named if isinstance(named, Mapping) else {}
        self._types: dict[int, ComponentApiType] = {}

    def component_type(self, component_id: Any) -> ComponentApiType:
        """The (shared, cached) API type of the component ``component_id``."""
        if not isinstance(component_id, int):
            return _component_api_type(None)
        known = self._types.get(component_id)
        if known is None:
            known = self._types[component_id] = _component_api_type(self.components.get(component_id))
        return ComponentApiType(known.skip, known.value_is_file, known.is_state)


# -- the view ------------------------------------------------------------------------------------


class Endpoint(Generic[C]):
    """One endpoint of a connected client, with the public attributes of
    ``gradio_client.client.Endpoint`` and the same values (read-only in spirit: they are
    computed once, when the client first lists its endpoints).

    Made by the library: ``client.endpoints`` maps each ``fn_index`` to one. Its constructor
    takes ``client`` (the :class:`~gradio_jobs.Client` or :class:`~gradio_jobs.AsyncClient`
    it belongs to, held weakly, as the official client holds it), ``model`` (gradio-jobs' own
    description of the endpoint) and ``app`` (the model of the whole app).

    Attributes, as ``gradio_client`` 2.7.2 computes them:

    - ``fn_index``: the endpoint's index (the dependency's ``id`` where the config has one);
    - ``api_name``: ``"/" + api_name`` of the config, or its raw value when that is no string
      (None for an unnamed endpoint, ``False`` for one disabled with ``api_name=False``);
    - ``dependency``: the config's dependency dict for the endpoint (the client's own);
    - ``protocol``: the app's queue protocol (``"sse_v3"``, ..., ``"ws"``);
    - ``root_url``: the app's URL with its API prefix (``<src>gradio_api/`` on 5.x and 6.x);
    - ``backend_fn``: the dependency's ``backend_fn`` (False for a JavaScript-only event);
    - ``is_valid``: whether the API may call it (not private);
    - ``api_visibility``: ``"public"``, ``"undocumented"`` or ``"private"``;
    - ``input_component_types`` and ``output_component_types``: a :class:`ComponentApiType`
      per input and output component;
    - ``parameters_info``: the parameters of the public ``/info`` entry of a named endpoint
      (the dicts ``view_api(return_format="dict")`` lists), None for others;
    - ``oauth_token_requirement``: ``"required"`` or ``"optional"`` when the function takes a
      ``gr.OAuthToken`` (gradio 6), else None;
    - ``client``: the client, and ``model`` gradio-jobs' own description.

    Any other attribute is the model's (``parameters``, ``returns``, ``label``,
    ``visibility``, ``callable``, ``is_generator``, ...). ``repr()`` and ``str()`` read as the
    official ones: ``Endpoint src: <src>, api_name: /add, fn_index: 0``.
    """

    fn_index: int
    api_name: str | bool | None
    dependency: dict[str, Any]
    protocol: str
    root_url: str
    backend_fn: Any
    is_valid: bool
    api_visibility: str
    input_component_types: list[ComponentApiType]
    output_component_types: list[ComponentApiType]
    parameters_info: list[Any] | None
    oauth_token_requirement: str | None
    model: EndpointModel

    def __init__(self, client: C, model: EndpointModel, app: App, *, _facts: _AppFacts | None = None) -> None:
        facts = _facts if _facts is not None else _AppFacts(app)
        self._client: Callable[[], C | None] = weakref.ref(client)
        self._src = facts.src
        self.model = model
        dependency = facts.dependencies.get(model.fn_index)
        self.dependency = dependency if dependency is not None else {}
        self.fn_index = model.fn_index
        raw_name = self.dependency.get("api_name")
        self.api_name = "/" + raw_name if isinstance(raw_name, str) else raw_name
        self.protocol = facts.protocol
        self.input_component_types = [facts.component_type(i) for i in self.dependency.get("inputs") or []]
        self.output_component_types = [facts.component_type(i) for i in self.dependency.get("outputs") or []]
        entry = facts.named.get(self.api_name) if isinstance(self.api_name, str) else None
        if isinstance(entry, Mapping):
            parameters = entry.get("parameters")
            self.parameters_info = parameters if isinstance(parameters, list) else None
            requirement = entry.get("oauth_token")
            self.oauth_token_requirement = requirement if isinstance(requirement, str) else None
        else:
            self.parameters_info = None
            self.oauth_token_requirement = None
        self.root_url = facts.root_url
        self.backend_fn = self.dependency.get("backend_fn")
        self.is_valid, self.api_visibility = _official_visibility(self.dependency)

    @property
    def client(self) -> C:
        """The client this endpoint belongs to. Raises ``ValueError`` (as ``gradio_client``
        does) once that client has been garbage collected."""
        client = self._client()
        if client is None:
            raise ValueError("The Client this endpoint belongs to has been garbage collected.")
        return client

    @client.setter
    def client(self, client: C) -> None:
        """Attach the view to ``client``, held strongly from then on (as in ``gradio_client``)."""
        self._client = lambda: client

    def oauth_token_payload(self) -> dict[str, str]:
        """The ``oauth_token`` field a call of this endpoint carries: ``{"oauth_token": token}``
        when the endpoint's function takes a ``gr.OAuthToken`` and the client was given one
        (``oauth_token=``), else ``{}`` (as ``gradio_client``'s method of the same name)."""
        token = getattr(self.client, "oauth_token", None)
        if token and self.oauth_token_requirement is not None:
            return {"oauth_token": token}
        return {}

    def __getattr__(self, name: str) -> Any:
        """The model's attribute ``name`` (``parameters``, ``label``, ``visibility``, ...)."""
        if name.startswith("__") or "model" not in self.__dict__:
            raise AttributeError(name)
        try:
            return getattr(self.__dict__["model"], name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(self.model) if not n.startswith("_")})

    def __repr__(self) -> str:
        client = self._client()
        src = getattr(client, "src", None) or self._src
        return f"Endpoint src: {src}, api_name: {self.api_name}, fn_index: {self.fn_index}"

    def __str__(self) -> str:
        return self.__repr__()


# -- one dict of views per client and app ------------------------------------------------------

_views: weakref.WeakKeyDictionary[Any, tuple[App, dict[int, Endpoint[Any]]]] = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def endpoint_views(client: C, app: App) -> dict[int, Endpoint[C]]:
    """``client.endpoints``: an :class:`Endpoint` view of each of ``app``'s endpoints, by
    ``fn_index``, in the config's order, for ``client`` (the sync or the async client whose
    ``app`` it is). Built once per client and app model; the same dict afterwards (as the
    official client's attribute)."""
    with _views_lock:
        cached = _views.get(client)
        if cached is not None and cached[0] is app:
            return cached[1]
        facts = _AppFacts(app)
        views: dict[int, Endpoint[C]] = {}
        for model in app.endpoints:
            views.setdefault(model.fn_index, Endpoint(client, model, app, _facts=facts))
        _views[client] = (app, views)
        return views
