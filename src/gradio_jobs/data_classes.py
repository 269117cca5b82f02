"""``gradio_client.data_classes`` under gradio-jobs' name: the typed dicts of its public API.

``FileData`` is the shape of the official client's file values (the same keys, the same
required ones); ``ParameterInfo`` that of a parameter in ``view_api(return_format="dict")``.
gradio-jobs' own file values are the dicts :func:`gradio_jobs.handle_file` returns.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["FileData", "ParameterInfo"]


class _FileDataKeys(TypedDict):
    name: str | None
    data: str | None


class FileData(_FileDataKeys, total=False):
    """A file value as ``gradio_client.FileData`` types it.

    ``name`` is the file's name or path and ``data`` its content in base64 (either may be
    None); optional: ``size`` in bytes, ``is_file`` (the value names a file rather than
    carrying its data), ``orig_name``, ``mime_type`` and ``is_stream``.
    """

    size: int | None
    is_file: bool
    orig_name: str
    mime_type: str
    is_stream: bool


class _ParameterInfoKeys(TypedDict):
    label: str
    parameter_name: str
    type: dict[str, Any]
    python_type: dict[str, Any]
    component: str
    example_input: Any


class ParameterInfo(_ParameterInfoKeys, total=False):
    """One parameter of an endpoint in ``view_api(return_format="dict")``, as
    ``gradio_client.data_classes.ParameterInfo`` types it.

    ``label``, ``parameter_name``, ``type`` (JSON schema), ``python_type``, ``component``
    and ``example_input``; optional: ``parameter_has_default`` and ``parameter_default``.
    """

    parameter_has_default: bool
    parameter_default: Any
