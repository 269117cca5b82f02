"""The Ray extra: ``gradio_jobs.ray.GradioPredictor`` in ``Dataset.map_batches``, end to end.

A local Ray instance (2 CPUs, started once for the module) runs the batches on two actors,
each with its own client, against the real core_app server of 6.31.0 and of 4.44.1, and, each
with a replica pool, against two pool_app replicas of each. Skipped only where ``ray`` cannot
be imported (``pip install gradio-jobs[ray]``; the test extra has it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import GradioServer, missing_venv_reason, requested_versions, start_many, venv_exists

from gradio_jobs import Client

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'gradio-jobs[ray]')")

ROWS = 200

# Ray Data's own DataContext warns about its own deprecated fields when it is copied
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


RAY_VERSIONS = ("6.31.0", "4.44.1")


@pytest.fixture(params=[v for v in requested_versions(RAY_VERSIONS) if v in RAY_VERSIONS], ids=lambda v: f"gradio-{v}")
def server(request, servers):
    """core_app on the newest generation and on 4.x (5.x speaks as 6.x does here)."""
    return servers.get(request.param)


@pytest.fixture(scope="module", params=[v for v in requested_versions(RAY_VERSIONS) if v in RAY_VERSIONS],
                ids=lambda v: f"gradio-{v}")
def replica_urls(request):
    """Two replicas of pool_app (``/work(x)`` = 2 x, two at a time; ``/counts`` what it ran)."""
    if not venv_exists(request.param):
        pytest.skip(missing_venv_reason(request.param))
    args = ["--delay", "0.05", "--concurrency", "2"]
    replicas = start_many([GradioServer(request.param, app="pool_app", args=args) for _ in range(2)])
    try:
        yield [replica.url for replica in replicas]
    finally:
        for replica in replicas:
            replica.stop()


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        object_store_memory=200 * 1024 * 1024,
    )
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the dataset's order, to compare row by row
    context.enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


def _rows() -> list[dict]:
    # every seventh row has no b: the app's a + None raises, and that row alone fails
    return [{"i": i, "a": i, "b": None if i % 7 == 0 else 2 * i} for i in range(ROWS)]


def _check_sums(out: list[dict]) -> None:
    assert [row["i"] for row in out] == list(range(ROWS))
    for row in out:
        i = row["i"]
        if i % 7 == 0:
            assert row["result"] is None, row
            assert row["error"].startswith("AppError: "), row
        else:
            assert row["error"] is None, row
            assert row["result"] == 3 * i, row


@needs_ray
def test_numpy_batches_positional_columns_results_in_order_and_row_errors(ray_local, server):
    from gradio_jobs.ray import GradioPredictor

    ds = ray_local.data.from_items(_rows())
    out = ds.map_batches(
        GradioPredictor,
        fn_constructor_kwargs={
            "src": server.url,
            "api_name": "/add",
            "input_columns": ["a", "b"],
            "concurrency": 8,
        },
        compute=ray_local.data.ActorPoolStrategy(size=2),  # two actors, one client each
        batch_size=32,
        batch_format="numpy",
    ).take_all()
    _check_sums(out)


@needs_ray
def test_pandas_batches_by_name_through_a_client_factory(ray_local, server):
    from gradio_jobs.ray import GradioPredictor

    ds = ray_local.data.from_items(_rows())
    out = ds.map_batches(
        GradioPredictor,
        fn_constructor_kwargs={
            "client_factory": functools.partial(Client, server.url, verbose=False),
            "api_name": "/add",
            # column name -> parameter name: keyword arguments
            "input_columns": {"b": "b", "a": "a"},
            "output_column": "result",
            "error_column": "error",
        },
        compute=ray_local.data.ActorPoolStrategy(size=2),  # two actors, one client each
        batch_size=64,
        batch_format="pandas",
    ).take_all()
    _check_sums(out)


@needs_ray
def test_file_columns_and_client_options_download_to_the_given_folder(ray_local, server, tmp_path):
    from gradio_jobs.ray import GradioPredictor

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rows = []
    for i in range(12):
        path = inputs / f"doc{i}.txt"
        if i != 5:  # row 5 names a file that does not exist: it fails alone
            path.write_text("x" * (i + 1))
        rows.append({"i": i, "doc": str(path)})
    downloads = tmp_path / "downloads"
    out = ray_local.data.from_items(rows).map_batches(
        GradioPredictor,
        fn_constructor_kwargs={
            "src": server.url,
            "api_name": "/file_info",
            "input_columns": ["doc"],
            "file_columns": ["doc"],
            "output_column": "info",
            "error_column": "problem",
            # a client option, passed through to the Client of each actor
            "download_files": str(downloads),
        },
        compute=ray_local.data.ActorPoolStrategy(size=2),  # two actors, one client each
        batch_size=4,
        batch_format="pandas",
    ).take_all()
    assert [row["i"] for row in out] == list(range(12))
    for row in out:
        i = row["i"]
        if i == 5:
            assert row["info"] is None
            assert row["problem"].startswith("InputFileError: "), row
            continue
        assert row["problem"] is None, row
        text, result_path = row["info"]
        assert text == f"doc{i}.txt {i + 1}"
        assert Path(result_path).resolve().is_relative_to(downloads.resolve()), result_path
        assert Path(result_path).read_text() == f"size={i + 1}\n"


@needs_ray
def test_each_actor_holds_a_pool_over_two_replicas(ray_local, replica_urls):
    from gradio_jobs.ray import GradioPredictor

    rows = [{"i": i, "x": None if i == 13 else 100 + i} for i in range(40)]  # row 13: the app's float(None) fails
    out = ray_local.data.from_items(rows).map_batches(
        GradioPredictor,
        fn_constructor_kwargs={
            "src": replica_urls,  # a list: each actor holds a ClientPool over the replicas
            "api_name": "/work",
            "input_columns": ["x"],
            "concurrency": 4,
            "max_in_flight": 2,  # a pool option, passed through
        },
        compute=ray_local.data.ActorPoolStrategy(size=2),  # two actors, one pool each
        batch_size=10,
        batch_format="pandas",
    ).take_all()
    assert [row["i"] for row in out] == list(range(40))  # results in order
    for row in out:
        if row["i"] == 13:
            assert row["result"] is None and row["error"].startswith("AppError: "), row
        else:
            assert row["error"] is None and row["result"] == 2 * (100 + row["i"]), row
    ran = []
    for url in replica_urls:
        with Client(url, verbose=False) as client:
            ran.append({float(k): v for k, v in client.predict(api_name="/counts").items()})
    assert all(ran), ran  # both replicas ran rows
    # each row ran once, on one replica (row 13 is not counted: the app fails before counting it)
    assert sorted(k for counts in ran for k, v in counts.items() for _ in range(v)) == sorted(
        float(100 + i) for i in range(40) if i != 13
    ), ran


def test_bad_constructor_arguments_are_refused_before_connecting():
    from gradio_jobs.ray import GradioPredictor

    nowhere = "http://127.0.0.1:9/"  # never contacted: each case is refused first
    with pytest.raises(TypeError, match=r"src= .* or client_factory="):
        GradioPredictor(api_name="/add", input_columns=["a"])
    with pytest.raises(TypeError, match="not the string"):
        GradioPredictor(nowhere, api_name="/add", input_columns="a")
    with pytest.raises(ValueError, match="names no column"):
        GradioPredictor(nowhere, api_name="/add", input_columns=[])
    with pytest.raises(ValueError, match="not among input_columns"):
        GradioPredictor(nowhere, api_name="/add", input_columns=["a"], file_columns=["f"])
    with pytest.raises(ValueError, match="concurrency"):
        GradioPredictor(nowhere, api_name="/add", input_columns=["a"], concurrency=0)
    with pytest.raises(ValueError, match="both 'x'"):
        GradioPredictor(nowhere, api_name="/add", input_columns=["a"], output_column="x", error_column="x")
    with pytest.raises(ValueError, match="empty list"):
        GradioPredictor([], api_name="/add", input_columns=["a"])
    with pytest.raises(TypeError, match="a list of them"):
        GradioPredictor([nowhere, 3], api_name="/add", input_columns=["a"])


def test_missing_column_is_named(server):
    from gradio_jobs.ray import GradioPredictor

    predictor = GradioPredictor(server.url, api_name="/add", input_columns=["a", "c"])
    try:
        with pytest.raises(KeyError, match="no column 'c'"):
            predictor({"a": [1], "b": [2]})
        # an empty batch comes back with its two columns, empty
        out = predictor({"a": [], "c": []})
        assert list(out) == ["a", "c", "result", "error"] and len(out["result"]) == len(out["error"]) == 0
    finally:
        predictor.close()
    with pytest.raises(RuntimeError, match="closed"):
        predictor({"a": [1], "c": [2]})


def test_numpy_values_and_missing_ones_go_as_plain_json_values(server):
    """Called directly (no Ray): numpy scalars, arrays and NaN inside a batch of numpy arrays."""
    np = pytest.importorskip("numpy")
    from gradio_jobs.ray import GradioPredictor

    predictor = GradioPredictor(server.url, api_name="/add", input_columns={"x": "a", "y": "b"})
    try:
        batch = {"x": np.array([1, 2, 3], dtype=np.int64), "y": np.array([0.5, np.nan, 2.0])}
        out = predictor(batch)
    finally:
        predictor.close()
    assert out["x"] is batch["x"]  # the batch's own columns are kept as they are
    assert list(out["result"]) == [1.5, None, 5.0]
    assert out["error"][0] is None and out["error"][2] is None
    assert out["error"][1].startswith("AppError: ")  # b went as null: the app's 2 + None failed


@needs_ray
def test_the_module_does_not_shadow_ray():
    # gradio_jobs/ray.py next to absolute imports of the real ray, in both orders
    code = (
        "import gradio_jobs.ray as ours, ray, ray.data; "
        "assert ours is not ray and hasattr(ray, 'init') and hasattr(ray.data, 'Dataset'), ray; "
        "import gradio_jobs, sys; print(type(gradio_jobs.ray).__name__, 'ray.data' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["module", "True"]
