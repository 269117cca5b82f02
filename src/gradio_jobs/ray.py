"""Ray Data for dataset-scale work: :class:`GradioPredictor`, a callable class for
``ray.data.Dataset.map_batches`` (``pip install gradio-jobs[ray]``).

Ray is the engine: it spreads the batches over its actors, on one machine or a cluster; each
actor holds one client (or, given several sources, one replica pool) and runs the rows of its
batch through the app, a bounded number at a time, with the client's ``map``. Nothing here
schedules work of its own.

This module does not import ``ray`` itself (Ray imports it, and calls the class): it works on
the batches Ray hands it, pandas DataFrames or dicts of numpy arrays. ``import gradio_jobs``
does not import this module.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ._client import Client
from ._client_pool import ClientPool
from .protocol.files import handle_file

__all__ = ["GradioPredictor"]

logger = logging.getLogger("gradio_jobs")


class _MapsInputs(Protocol):
    """What the predictor needs of a client: ``map`` in input order, and ``close``. A
    :class:`~gradio_jobs.Client` and a :class:`~gradio_jobs.ClientPool` have both."""

    def map(
        self, inputs: Iterable[Any], *, api_name: str | None = ..., fn_index: int | None = ..., concurrency: int = ...
    ) -> Iterable[Any]: ...

    def close(self) -> None: ...


class GradioPredictor:
    """Runs each row of a Ray Data batch through one endpoint of a Gradio app; for
    ``ds.map_batches(GradioPredictor, fn_constructor_kwargs={...},
    compute=ray.data.ActorPoolStrategy(size=N))``.

    Ray makes one instance per actor (``N`` actors; ``concurrency=N`` in older Ray,
    deprecated since 2.51) and calls it with each batch. The instance holds one sync
    :class:`~gradio_jobs.Client` for its lifetime, made here (or, given a list of sources, one
    :class:`~gradio_jobs.ClientPool` over them); every batch runs on it with at most
    ``concurrency`` jobs in flight, and returns once each of its rows has ended, so no job is
    left running between batches. :meth:`close` closes the client (so does collecting the
    instance); Ray ends an actor by ending its process, and the connections go with it.
    The batch comes back with two more columns, in row order: ``output_column`` holds each
    row's result and ``error_column`` ``None``, or, for a row that failed, ``None`` and the
    error as ``"TypeName: message"`` (``"AppError: ..."`` for an exception in the app,
    ``"ArgumentError: ..."`` for values that do not fit the parameters, ``"InputFileError:
    ..."`` for a missing input file). A failed row never fails the batch: check the error
    column. An unknown endpoint or column fails the batch.

    ``src`` is the app's URL or a Hugging Face Space id, as for ``Client``; or a list of them,
    replicas of one app (copies on several GPUs or machines, duplicated Spaces): each actor
    then holds a ``ClientPool`` over all of them, which sends each row to the replica where it
    should finish soonest and moves the rows of a replica that goes down to the others (each
    actor's pool sees only its own jobs: ``max_in_flight=`` caps one actor's jobs on one
    replica). ``api_name``
    names the endpoint (``"/predict"``); ``fn_index`` chooses it by number instead.
    ``input_columns`` maps the batch's columns to the endpoint's parameters: a list of column
    names gives the positional arguments in that order (``["a", "b"]``: ``predict(a, b)``), a
    dict of column name to parameter name gives keyword arguments
    (``{"text": "prompt"}``: ``predict(prompt=row["text"])``); parameters left out take their
    defaults. Values are sent as plain Python values (numpy scalars and arrays as numbers and
    lists); a missing value (``None``, ``NaN``, ``pd.NA``) is sent as ``null``, since JSON has
    no ``NaN``. ``file_columns`` names the input columns that hold local paths or URLs of
    files to send: each value is passed through :func:`~gradio_jobs.handle_file` (a missing
    file fails its row). ``output_column`` (default ``"result"``) and ``error_column``
    (default ``"error"``) name the columns added. ``concurrency`` (default 16) is the most
    jobs one actor has in flight at once. ``client_factory``, instead of ``src``, is a
    function of no arguments returning the client to use (anything with ``map(inputs, *,
    api_name=, concurrency=)`` and ``close()``); Ray pickles it to each actor.
    ``client_options`` go to the ``Client`` (``headers=``, ``token=``, ``auth=``,
    ``download_files=``, ``retry=``, ...: see :class:`~gradio_jobs.ClientOptions`), or to the
    ``ClientPool`` for a list of sources (the same, and the pool's ``max_in_flight=``,
    ``queue_depth=``, ...); ``verbose`` defaults to False here.

    A result that is a file is downloaded to the client's ``download_files`` folder (by
    default the ``gradio`` folder of the temporary directory, or ``GRADIO_TEMP_DIR``) and
    its result is that local path: a path **on the machine of the actor that ran the row**.
    On a cluster, give a ``download_files=`` folder on shared storage, or read the files in a
    later step on the same node; ``download_files=False`` keeps the file descriptions (with
    their URLs) instead. An endpoint with several outputs gives a tuple per row.
    """

    def __init__(
        self,
        src: str | Sequence[str] | None = None,
        *,
        api_name: str | None = None,
        fn_index: int | None = None,
        input_columns: Sequence[str] | Mapping[str, str],
        file_columns: Iterable[str] = (),
        output_column: str = "result",
        error_column: str = "error",
        concurrency: int = 16,
        client_factory: Callable[[], _MapsInputs] | None = None,
        **client_options: Any,
    ) -> None:
        if (src is None) == (client_factory is None):
            raise TypeError(
                "GradioPredictor takes src= (an app's URL or a Space id, or a list of them) or client_factory=, "
                "not both"
            )
        sources: list[str] | None = None
        if src is not None and not isinstance(src, str):
            if not isinstance(src, Sequence) or not all(isinstance(s, str) for s in src):
                raise TypeError(f"src must be an app's URL or Space id, or a list of them, got {src!r}")
            sources = list(src)
            if not sources:
                raise ValueError("src is an empty list: give the URLs or Space ids of the app's replicas")
        if isinstance(input_columns, str):
            raise TypeError(f"input_columns must be a list of column names or a dict, not the string {input_columns!r}")
        if isinstance(input_columns, Mapping):
            self._by_name: dict[str, str] | None = {str(c): str(p) for c, p in input_columns.items()}
            self._columns = list(self._by_name)
        else:
            self._by_name = None
            self._columns = [str(c) for c in input_columns]
        if not self._columns:
            raise ValueError("input_columns names no column: give the columns that hold the endpoint's inputs")
        self._files = {str(c) for c in file_columns}
        unknown = sorted(self._files - set(self._columns))
        if unknown:
            raise ValueError(f"file_columns {unknown} are not among input_columns {self._columns}")
        if output_column == error_column:
            raise ValueError(f"output_column and error_column are both {output_column!r}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
        self._api_name = api_name
        self._fn_index = fn_index
        self._output = output_column
        self._error = error_column
        self._concurrency = concurrency
        self._client: _MapsInputs | None = None
        if client_factory is not None:
            if client_options:
                raise TypeError(f"client options {sorted(client_options)} go with src=, not with client_factory=")
            self._client = client_factory()
        else:
            client_options.setdefault("verbose", False)
            if sources is not None:
                self._client = ClientPool(sources, **client_options)
            else:
                self._client = Client(str(src), **client_options)

    def __call__(self, batch: Any) -> Any:
        """Run every row of ``batch`` (a pandas DataFrame, or a dict of column name to numpy
        array) and return it with the output and error columns added, in row order."""
        client = self._client
        if client is None:
            raise RuntimeError("this GradioPredictor was closed")
        columns = {name: _column(batch, name) for name in self._columns}
        rows = len(next(iter(columns.values())))
        inputs = [self._row(columns, i) for i in range(rows)]
        results = _objects(rows)
        errors = _objects(rows)
        # the client's map: at most `concurrency` jobs at once, results in input order, and
        # a failed row gives its error in its place
        outcomes = client.map(
            (item for item in inputs if not isinstance(item, BaseException)),
            api_name=self._api_name,
            fn_index=self._fn_index,
            concurrency=self._concurrency,
        )
        outcome_iter = iter(outcomes)
        for i, item in enumerate(inputs):
            value = item if isinstance(item, BaseException) else next(outcome_iter)
            if isinstance(value, BaseException):
                errors[i] = f"{type(value).__name__}: {value}"
            else:
                results[i] = value
        return _with_columns(batch, {self._output: results, self._error: errors})

    def _row(self, columns: dict[str, Sequence[Any]], i: int) -> Any:
        """Row ``i``'s call arguments, as the client's ``map`` takes them (a tuple of
        positional arguments or a dict of keyword ones), or the error that stops it."""
        values: dict[str, Any] = {}
        for name, column in columns.items():
            value = _plain(column[i])
            if name in self._files and value is not None:
                try:
                    value = handle_file(os.fspath(value))
                except (ValueError, TypeError) as exc:  # a missing file: this row fails alone
                    return exc
            values[name] = value
        if self._by_name is None:
            return tuple(values.values())
        return {self._by_name[name]: value for name, value in values.items()}

    def close(self) -> None:
        """Close the client; the instance takes no more batches. Runs when the instance is
        collected too (Ray Data itself calls nothing when it ends an actor)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit, the loop may be gone already
            logger.debug("GradioPredictor: could not close its client", exc_info=True)


def _column(batch: Any, name: str) -> Sequence[Any]:
    """The values of one column of a pandas DataFrame or a dict of numpy arrays."""
    try:
        column = batch[name]
    except (KeyError, IndexError):
        available = list(batch.keys()) if hasattr(batch, "keys") else list(getattr(batch, "columns", []))
        raise KeyError(f"the batch has no column {name!r} (its columns: {available})") from None
    # a pandas Series and a numpy array both give Python values (a row of a tensor column a list)
    values = column.tolist() if hasattr(column, "tolist") else list(column)
    return values


def _plain(value: Any) -> Any:
    """A batch value as a JSON-ready Python value: numpy scalars and arrays become numbers and
    lists, a missing value (None, NaN, pd.NA, NaT) None, inside lists and dicts too."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    module = type(value).__module__
    if module == "numpy":
        if hasattr(value, "ndim") and value.ndim > 0:
            return _plain(value.tolist())
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
        return value
    if module.startswith("pandas") and type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _objects(n: int) -> Any:
    """A 1-D numpy array of ``n`` Python objects (None), which a tuple can be put in whole."""
    import numpy as np

    return np.full(n, None, dtype=object)


def _with_columns(batch: Any, added: dict[str, Any]) -> Any:
    """``batch`` (a pandas DataFrame or a dict of numpy arrays) with ``added`` columns."""
    if isinstance(batch, dict):
        return {**batch, **added}
    if hasattr(batch, "assign"):
        return batch.assign(**added)
    raise TypeError(
        f"GradioPredictor takes batches as pandas DataFrames or dicts of numpy arrays "
        f"(map_batches(batch_format='pandas' or 'numpy')), got {type(batch).__name__}"
    )
