"""File values in a job's data: marking inputs, finding files, naming downloads. No I/O.

A file travels as a FileData dict (``path``, ``url``, ``orig_name``, ``meta``; 3.x servers use
``name`` and ``is_file`` instead, see :func:`is_file_output`). Inputs are marked by the caller with
:func:`handle_file` (or passed as a :class:`pathlib.Path`); local ones are uploaded and
replaced by the server's copy before the job is sent. Outputs are found by walking the
value, so files nested in lists and dicts (galleries, chat messages) are handled too.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from .._exceptions import InputFileError
from .capabilities import Capabilities

__all__ = [
    "FILE_DATA_TYPE",
    "app_file_inputs",
    "is_app_file_url",
    "file",
    "handle_file",
    "is_file_input",
    "is_file_output",
    "LocalFile",
    "local_files",
    "map_files",
    "uploaded_file",
    "url_file",
    "sanitize_upload_name",
    "safe_file_name",
    "download_url",
]

FILE_DATA_TYPE = "gradio.FileData"
_META = {"_type": FILE_DATA_TYPE}

# The characters gradio's own client strips from upload names (read in gradio_client's source).
_UNSAFE_UPLOAD_CHARS = re.compile(r'[<>:"/\\|?*`$!{}\x00-\x1f\x7f]')
_WINDOWS_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_MAX_NAME_BYTES = 200


def _is_url(text: Any) -> bool:
    """Whether ``text`` is an http(s) URL (any other value: False)."""
    return isinstance(text, str) and text.lower().startswith(("http://", "https://"))


def handle_file(filepath_or_url: str | os.PathLike[str]) -> dict[str, Any]:
    """Mark an argument as a file: a local path (uploaded when the job is sent) or a URL
    (passed to the server, which fetches it).

    ``filepath_or_url`` is a path (``str`` or path-like) or an ``http(s)://`` URL; the result is
    the FileData dict to pass as the argument, or anywhere inside it. Raises
    :class:`InputFileError` (a ``ValueError`` too, as in ``gradio_client``) at once if a
    local file does not exist.
    """
    text = os.fspath(filepath_or_url)
    if not isinstance(text, str):
        raise TypeError(f"handle_file() takes a path or a URL, got {filepath_or_url!r}")
    if _is_url(text):
        name = unquote(urlsplit(text).path.rsplit("/", 1)[-1]) or "file"
        return {"path": text, "url": text, "orig_name": name, "meta": dict(_META)}
    if not os.path.isfile(text):
        raise InputFileError(_missing_file_message(text))
    return {"path": text, "orig_name": os.path.basename(text), "meta": dict(_META)}


def _missing_file_message(path: str) -> str:
    """The official client's words for a file input that is neither a file nor a URL."""
    what = "is a directory, not a file" if os.path.isdir(path) else "is not an existing file (nor an http(s) URL)"
    return f"File {path} does not exist on local filesystem and is not a valid URL. ({path!r} {what})"


def file(filepath_or_url: str | os.PathLike[str]) -> dict[str, Any]:
    """Deprecated alias of :func:`handle_file`, kept from ``gradio_client``.

    ``filepath_or_url`` is a local path or an ``http(s)://`` URL, as for :func:`handle_file`.
    Warns with the official client's ``UserWarning`` that ``file()`` is deprecated.
    """
    warnings.warn(
        "file() is deprecated and will be removed in a future version. Use handle_file() instead.",
        UserWarning,
        stacklevel=2,
    )
    return handle_file(filepath_or_url)


def is_file_input(value: Any) -> bool:
    """Whether ``value`` (any part of an argument) is a file the caller marked: a
    ``handle_file`` dict or a ``Path``."""
    if isinstance(value, PurePath):
        return True
    return (
        isinstance(value, dict)
        and isinstance(value.get("path"), str)
        and isinstance(value.get("meta"), dict)
        and value["meta"].get("_type") == FILE_DATA_TYPE
    )


def is_file_output(value: Any, caps: Capabilities) -> bool:
    """Whether ``value`` (any part of an output) is a file, as the server of ``caps`` marks one.

    A FileData marked by its ``meta`` where the server sends one; before that (``file_meta``
    false) any dict with a string ``path``, as gradio's client does; on 3.x a dict with
    ``is_file`` and a string ``name``.
    """
    if caps.legacy_files:
        return isinstance(value, dict) and value.get("is_file") is True and isinstance(value.get("name"), str)
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        return False
    if caps.file_meta:
        meta = value.get("meta")
        return isinstance(meta, dict) and meta.get("_type") == FILE_DATA_TYPE
    return True


def map_files(value: Any, is_file: Callable[[Any], bool], replace: Callable[[Any], Any]) -> Any:
    """``value`` with every file in it replaced by ``replace(file)``.

    ``is_file`` tells a file (:func:`is_file_input` or a wrapper of :func:`is_file_output`);
    files are looked for in dicts, lists and tuples at any depth. Containers are copied, the
    rest is shared.
    """
    if is_file(value):
        return replace(value)
    if isinstance(value, dict):
        return {key: map_files(item, is_file, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [map_files(item, is_file, replace) for item in value]
    if isinstance(value, tuple):
        return tuple(map_files(item, is_file, replace) for item in value)
    return value


def find_files(value: Any, is_file: Callable[[Any], bool]) -> list[Any]:
    """Every file in ``value``, in order of appearance (duplicates kept); ``is_file`` as for
    :func:`map_files`."""
    found: list[Any] = []

    def collect(item: Any) -> Any:
        found.append(item)
        return item

    map_files(value, is_file, collect)
    return found


@dataclass(frozen=True)
class LocalFile:
    """A local file input that has to be uploaded before the job is sent.

    ``path`` is the file's path as the caller gave it; ``name`` the name sent with the upload.
    """

    path: str
    #: The name the server keeps (sanitised as gradio's client does).
    name: str


def _as_input(value: Any) -> dict[str, Any]:
    return handle_file(value) if isinstance(value, PurePath) else value


def local_files(data: Any) -> list[LocalFile]:
    """The local files among the inputs, each once, in order of appearance.

    ``data`` is the job's input data (any nesting). URL inputs are left out. Raises
    :class:`InputFileError` for a marked file that does not exist.
    """
    seen: dict[str, LocalFile] = {}
    for item in find_files(data, is_file_input):
        file = _as_input(item)
        path = file["path"]
        if _is_url(path) or path in seen:
            continue
        if not os.path.isfile(path):
            raise InputFileError(_missing_file_message(path))
        name = file.get("orig_name") if isinstance(file.get("orig_name"), str) else None
        seen[path] = LocalFile(path, sanitize_upload_name(name or os.path.basename(path)))
    return list(seen.values())


def _legacy_file(name: str, orig_name: Any) -> dict[str, Any]:
    """A 3.x file value: the server reads the file at ``name`` (a path it gave, or a URL)."""
    return {"name": name, "data": None, "is_file": True, "orig_name": orig_name}


def _as_file_data(file: dict[str, Any]) -> dict[str, Any]:
    """A file output of any generation in FileData terms (3.x names its path ``name``)."""
    if "path" not in file and file.get("is_file") is True:
        return {"path": file.get("name"), "orig_name": file.get("orig_name")}
    return file


def uploaded_file(server_path: str, name: str, caps: Capabilities) -> dict[str, Any]:
    """The value sent for an uploaded file, in the format of the server of ``caps``.

    ``server_path`` is the path the upload route returned; ``name`` the file's original name.
    """
    if caps.legacy_files:
        return _legacy_file(server_path, name)
    value: dict[str, Any] = {"path": server_path, "orig_name": name}
    if caps.file_meta:
        value["meta"] = dict(_META)
    return value


def url_file(file: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    """The value sent for a URL input (``file``, a :func:`handle_file` dict of a URL), in the
    format of the server of ``caps``: the server downloads it itself."""
    if caps.legacy_files:
        return _legacy_file(file["path"], file.get("orig_name"))
    value: dict[str, Any] = {"path": file["path"], "orig_name": file.get("orig_name")}
    if caps.file_meta:
        value["meta"] = dict(_META)
    return value


# The routes an app serves its own files from, under its API prefix.
_APP_FILE_ROUTES = ("file=", "file/", "proxy=")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def is_app_file_url(url: str, api_url: str) -> bool:
    """Whether ``url`` is one of the app's own files: its origin, under ``api_url`` (the
    app's API base, ending in ``/``), on a file route (``file=``, ``file/``, ``proxy=``)."""
    if not _is_url(url) or _origin(url) != _origin(api_url):
        return False
    path, base = urlsplit(url).path, urlsplit(api_url).path
    return path.startswith(tuple(base + route for route in _APP_FILE_ROUTES))


def app_file_inputs(data: Any, api_url: str) -> list[LocalFile]:
    """The URL inputs that are the app's own files (see :func:`is_app_file_url`), each once:
    the client fetches them (with its credentials: a private Space's files need them) and
    uploads them, rather than asking the server to fetch its own URL, which it may refuse.

    ``path`` is the URL; ``name`` the name the upload is sent under.
    """
    seen: dict[str, LocalFile] = {}
    for item in find_files(data, is_file_input):
        file = _as_input(item)
        url = file["path"]
        if url in seen or not is_app_file_url(url, api_url):
            continue
        name = file.get("orig_name") if isinstance(file.get("orig_name"), str) else None
        base = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        seen[url] = LocalFile(url, sanitize_upload_name(name or base or "file"))
    return list(seen.values())


def prepare_inputs(data: Any, uploaded: dict[str, str], caps: Capabilities) -> Any:
    """``data`` with each file input replaced by what the server of ``caps`` expects.

    ``uploaded`` maps the local path of every local file in ``data`` (as :func:`local_files`
    lists them), and the URL of every one the client uploaded itself (as
    :func:`app_file_inputs` lists them), to the server path its upload returned; other URL
    inputs need no entry: the server fetches them.
    """

    def replace(item: Any) -> Any:
        file = _as_input(item)
        path = file["path"]
        if _is_url(path) and path not in uploaded:
            return url_file(file, caps)
        base = unquote(urlsplit(path).path.rsplit("/", 1)[-1]) if _is_url(path) else os.path.basename(path)
        name = sanitize_upload_name(file.get("orig_name") or base or "file")
        return uploaded_file(uploaded[path], name, caps)

    return map_files(data, is_file_input, replace)


def sanitize_upload_name(name: str) -> str:
    """``name`` (a file's name) as gradio's client sends it with an upload: unsafe characters
    stripped, Windows device names prefixed, at most 200 bytes (``"file"`` if nothing is left)."""
    cleaned = _UNSAFE_UPLOAD_CHARS.sub("", unicodedata.normalize("NFC", name)).strip()
    stem = cleaned.split(".", 1)[0].upper()
    if stem in _WINDOWS_DEVICE_NAMES:
        cleaned = "_" + cleaned
    return _truncate(cleaned or "file")


def safe_file_name(name: Any) -> str:
    """``name``, a name a server suggested for a download, reduced to one harmless path component.

    Whatever the server sends (``../../x``, ``C:\\x``, ``/etc/passwd``, control bytes, an
    empty string), the result has no separator, is not ``.`` or ``..``, has no control or
    Windows-reserved characters, and is at most 200 bytes: joined to a folder it stays in it.
    """
    text = name if isinstance(name, str) else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE_UPLOAD_CHARS.sub("_", text)
    # Lone surrogates cannot be written to a file system as names.
    text = text.encode("utf-8", errors="replace").decode("utf-8").replace("\ufffd", "_")
    # Trailing dots and spaces vanish on Windows; a name of dots alone is "." or ".." there.
    text = text.strip(" ").rstrip(". ")
    if not text.strip("."):
        return "file"
    if text.split(".", 1)[0].upper() in _WINDOWS_DEVICE_NAMES:
        text = "_" + text
    return _truncate(text)


def _truncate(name: str) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= _MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext.encode("utf-8")) <= 16:
        keep = _MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1
        return stem.encode("utf-8")[:keep].decode("utf-8", errors="ignore") + "." + ext
    return encoded[:_MAX_NAME_BYTES].decode("utf-8", errors="ignore")


def download_name(file: dict[str, Any]) -> str:
    """The file name to save the output ``file`` (a FileData or 3.x file dict) under.

    The basename of its server path, as gradio's client does; else its ``orig_name``, else
    the URL's last segment; made safe by :func:`safe_file_name` (``"file"`` if none is usable).
    """
    file = _as_file_data(file)
    path = file.get("path")
    candidates: list[Any] = []
    if isinstance(path, str) and not _is_url(path):
        candidates.append(path)
    candidates.append(file.get("orig_name"))
    for url in (path, file.get("url")):
        if _is_url(url):
            candidates.append(unquote(urlsplit(url).path))
    for candidate in candidates:
        if isinstance(candidate, str):
            base = candidate.replace("\\", "/").rsplit("/", 1)[-1]
            if base.strip(" ."):
                return safe_file_name(base)
    return "file"


def download_url(file: dict[str, Any], api_url: str) -> str | None:
    """Where to fetch the output ``file`` (a FileData or 3.x file dict) from, or None if it
    names no place; ``api_url`` is the app's API root (:attr:`App.api_url`).

    A server path is fetched through the app's ``file=`` route, built from the address the
    client uses (the server's own ``url`` may name a host only it knows, behind a proxy).
    A URL in ``path`` is fetched as is; streams use their ``url``.
    """
    file = _as_file_data(file)
    path = file.get("path")
    url = file.get("url")
    if _is_url(path):
        return path
    if file.get("is_stream") and isinstance(url, str) and url:
        return urljoin(api_url, url)
    if isinstance(path, str) and path:
        return api_url + "file=" + quote(path, safe="/")
    if isinstance(url, str) and url:
        return urljoin(api_url, url)
    return None
