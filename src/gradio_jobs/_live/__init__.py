"""Showing jobs and maps while they run, where people work: terminals, notebooks, logs.

``view`` folds a job's events into what there is to show, and measures a map (no I/O, no
rich); ``html`` renders both as HTML; ``displays`` writes plain lines; ``terminal`` draws
rich live views; ``notebook`` updates an HTML output in place; ``watch`` and ``mapbar``
pick one of them for ``job.watch()`` and ``map(progress=True)``. ``gradio-jobs call`` and
``job.watch()`` show the same :class:`~gradio_jobs._live.view.JobView` through the same
displays. Nothing here is imported before it is used.
"""
