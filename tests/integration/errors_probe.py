"""Make the same failing calls with a client library and report each error, as JSON.

Run by tests/integration/test_official_errors.py under two interpreters, with the import
changed and nothing else: the official ``gradio_client`` (in the gradio 6.31.0 venv) and
``gradio_jobs`` (sync ``Client``, or ``AsyncClient`` with ``"async": true``).

    python errors_probe.py '{"module": "gradio_jobs", "url": ..., "copy_url": ..., ...}'

Prints one line, ``RESULTS {case: {"ok": repr} | {"mro": [...], "message": str, "attrs": {...}}}``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import warnings
from typing import Any

ATTRS = ("title", "message", "duration", "visible", "print_exception", "hidden", "status_code")

#: case -> (what to do, where, positional arguments, keyword arguments). ``"app"`` is the app
#: that hides its exceptions (with an upload limit), ``"secured"`` its copy behind a login
#: that shows them; a ``{"arg": name}`` value is taken from the probe's arguments.
CASES: dict[str, tuple[str, str, tuple[Any, ...], dict[str, Any]]] = {
    "missing_argument": ("predict", "app", (1,), {"api_name": "/add"}),
    "unknown_keyword": ("predict", "app", (1, 2), {"c": 3, "api_name": "/add"}),
    "keyword_already_positional": ("predict", "app", (1,), {"a": 2, "api_name": "/add"}),
    "unknown_api_name": ("predict", "app", (1, 2), {"api_name": "/nope"}),
    "unknown_fn_index": ("predict", "app", (1, 2), {"fn_index": 99}),
    "no_endpoint_named": ("predict", "app", (1, 2), {}),
    "app_error": ("predict", "app", ("x",), {"api_name": "/fail"}),
    "hidden_error": ("predict", "app", ("x",), {"api_name": "/crash"}),
    "shown_error": ("predict", "secured", ("x",), {"api_name": "/crash"}),
    "too_large_file": ("predict", "app", ({"file": "big_file"},), {"api_name": "/size"}),
    "file_refused": ("predict", "app", (), {"api_name": "/refused"}),
    "missing_input_file": ("handle_file", "", ({"arg": "missing_file"},), {}),
    "unreachable": ("connect", "closed_url", (), {}),
    "login_required": ("connect", "copy_url", (), {}),
    "wrong_password": ("connect", "copy_url", (), {"auth": "wrong"}),
}


def report(outcome: Any) -> dict[str, Any]:
    if not isinstance(outcome, BaseException):
        return {"ok": repr(outcome)}
    attrs = {}
    for name in ATTRS:
        value = getattr(outcome, name, None)
        if isinstance(value, (str, int, float, bool)):
            attrs[name] = value
    return {
        "mro": [f"{c.__module__}.{c.__qualname__}" for c in type(outcome).__mro__],
        "message": str(outcome),
        "attrs": attrs,
    }


class Probe:
    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args
        library = importlib.import_module(args["module"])
        self.handle_file = library.handle_file
        self.client_class = library.AsyncClient if args.get("async") else library.Client
        self.clients: dict[str, Any] = {}

    def value(self, item: Any) -> Any:
        if isinstance(item, dict) and "arg" in item:
            return self.args[item["arg"]]
        if isinstance(item, dict) and "file" in item:
            return self.handle_file(self.args[item["file"]])
        return item

    def client_options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        auth = kwargs.get("auth")
        if auth == "wrong":
            return {"auth": (self.args["user"], self.args["password"] + "-wrong")}
        return {}

    def where(self, place: str) -> tuple[str, dict[str, Any]]:
        if place == "secured":
            return self.args["copy_url"], {"auth": (self.args["user"], self.args["password"])}
        return self.args["url"], {}

    # -- sync --------------------------------------------------------------------------

    def run(self, case: str) -> Any:
        action, place, args, kwargs = CASES[case]
        args = tuple(self.value(a) for a in args)
        if action == "handle_file":
            return self.handle_file(*args)
        if action == "connect":
            client = self.client_class(self.args[place], verbose=False, **self.client_options(kwargs))
            client.close()
            return "connected"
        if place not in self.clients:
            url, options = self.where(place)
            self.clients[place] = self.client_class(url, verbose=False, **options)
        return self.clients[place].predict(*args, **kwargs)

    # -- async (gradio_jobs.AsyncClient) -----------------------------------------------

    async def arun(self, case: str) -> Any:
        action, place, args, kwargs = CASES[case]
        args = tuple(self.value(a) for a in args)
        if action == "handle_file":
            return self.handle_file(*args)
        if action == "connect":
            async with self.client_class(self.args[place], verbose=False, **self.client_options(kwargs)):
                return "connected"
        if place not in self.clients:
            url, options = self.where(place)
            self.clients[place] = await self.client_class(url, verbose=False, **options).connect()
        return await self.clients[place].predict(*args, **kwargs)


def main() -> None:
    args = json.loads(sys.argv[1])
    probe = Probe(args)
    results: dict[str, Any] = {}
    cases = args.get("only") or list(CASES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.get("async"):

            async def run_all() -> None:
                for case in cases:
                    try:
                        results[case] = report(await probe.arun(case))
                    except Exception as exc:
                        results[case] = report(exc)
                for client in probe.clients.values():
                    await client.close()

            asyncio.run(run_all())
        else:
            for case in cases:
                try:
                    results[case] = report(probe.run(case))
                except Exception as exc:
                    results[case] = report(exc)
            for client in probe.clients.values():
                client.close()
    print("RESULTS " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
