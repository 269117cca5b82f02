"""The attributes ``gradio_client``'s ``Client`` has, written once for both clients.

``Client`` and ``AsyncClient`` both derive from :class:`ClientAttributes`, which reads each
value from the async client that holds the state (``_core()``: the async client itself, or
the one a sync client runs).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from ._endpoints import Endpoint as EndpointView
from ._endpoints import endpoint_views
from ._limits import DEFAULT_DOWNLOAD_DIR

if TYPE_CHECKING:
    from packaging.version import Version
    from typing_extensions import Self

    from ._async_client import AsyncClient

__all__ = ["ClientAttributes", "zero_gpu_token"]


def zero_gpu_token() -> str | None:
    """The ``x-ip-token`` header of the request the running Gradio app handler serves, if any.

    Read from gradio's own context, and only when gradio is already loaded (this process is
    a Gradio app): the client never imports gradio itself.
    """
    context = sys.modules.get("gradio.context")
    local = getattr(context, "LocalContext", None)
    request_var = getattr(local, "request", None)
    if request_var is None:
        return None
    request = request_var.get(None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    try:
        token = headers.get("x-ip-token")
    except Exception:  # a request object of an unknown shape: no token
        return None
    return token if isinstance(token, str) else None


class ClientAttributes:
    """What code written for ``gradio_client`` reads of a client (see the module docstring)."""

    def _core(self) -> AsyncClient:
        raise NotImplementedError

    @property
    def token(self) -> str | None:
        """The Hugging Face token given to the client (None if none was)."""
        return self._core().options.token

    @property
    def oauth_token(self) -> str | None:
        """The token passed to endpoints that take a ``gr.OAuthToken`` (``ClientOptions.oauth_token``)."""
        return self._core().options.oauth_token

    @property
    def verbose(self) -> bool:
        """Whether the client logs a line once connected."""
        return self._core().options.verbose

    @property
    def download_files(self) -> str | os.PathLike[str] | bool:
        """Where file outputs are downloaded to, or False (``ClientOptions.download_files``)."""
        return self._core().options.download_files

    @property
    def output_dir(self) -> str:
        """The folder file outputs are downloaded to (the default one when downloads are off)."""
        return os.fspath(self._core().options.download_folder or DEFAULT_DOWNLOAD_DIR)

    @property
    def ssl_verify(self) -> bool | str:
        """Whether TLS certificates are verified (or the CA bundle they are verified with)."""
        return self._core().options.ssl_verify

    @property
    def httpx_kwargs(self) -> dict[str, Any]:
        """The extra keyword arguments of the client's HTTP clients."""
        return dict(self._core().options.httpx_kwargs or {})

    @property
    def headers(self) -> dict[str, str]:
        """The headers every request to the app carries (once connected): the client's
        ``user-agent``, the token as ``x-hf-authorization`` and the ``headers`` option."""
        return self._core()._connected().transport.app_headers

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies sent to the app (once connected): the login's and those of ``httpx_kwargs``."""
        return self._core()._connected().transport.cookies

    @property
    def config(self) -> dict[str, Any]:
        """The app's ``/config``, as the server sent it (once connected)."""
        return dict(self._core().app.config)

    @property
    def protocol(self) -> str:
        """The app's queue protocol as its config names it (``"ws"``, ``"sse"``, ...,
        ``"sse_v3"``; once connected)."""
        protocol = self._core().app.config.get("protocol", "ws")
        return protocol if isinstance(protocol, str) else "ws"

    @property
    def app_version(self) -> Version:
        """The app's gradio version (a ``packaging`` ``Version``, as in ``gradio_client``;
        ``2.0`` when the config does not say; once connected)."""
        from packaging.version import InvalidVersion, Version

        try:
            return Version(str(self._core().app.config.get("version") or "2.0"))
        except InvalidVersion:
            return Version("2.0")

    @property
    def upload_url(self) -> str:
        """The app's file upload route (once connected)."""
        return self._core().app.api_url + "upload"

    @property
    def endpoints(self) -> dict[int, EndpointView[Self]]:
        """Every endpoint of the app by its ``fn_index`` (once connected), each with the public
        attributes of ``gradio_client``'s ``Endpoint`` (see :class:`gradio_jobs.client.Endpoint`)."""
        return endpoint_views(self, self._core().app)

    def add_zero_gpu_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Add to ``headers`` the ``x-ip-token`` of the request a Gradio app is handling, and
        return them.

        Called inside a Gradio app's event handler, a client of a ZeroGPU Space passes the
        end user's token on, so their quota is spent, not the calling Space's. Every job a
        client of a Space submits does this by itself; elsewhere (not a Space, not inside a
        Gradio app's handler) ``headers`` come back unchanged.
        """
        if not self._core().space_id:
            return headers
        token = zero_gpu_token()
        if token is not None:
            headers["x-ip-token"] = token
        return headers
