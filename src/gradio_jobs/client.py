"""``gradio_client.client`` under gradio-jobs' name: the names code imports from it.

So that ``from gradio_client.client import Client, DEFAULT_TEMP_DIR`` keeps working with the
package name changed: :class:`Client`, its :class:`Job`, the :class:`Endpoint` views that
``client.endpoints`` holds (with their :class:`ComponentApiType`) and ``DEFAULT_TEMP_DIR``,
the folder file outputs go to by default (``$GRADIO_TEMP_DIR``, else ``<temp>/gradio``,
computed as the official constant is). The official module's thread plumbing has no
counterpart.
"""

from __future__ import annotations

from ._client import Client
from ._endpoints import ComponentApiType, Endpoint
from ._job import Job
from ._limits import DEFAULT_DOWNLOAD_DIR

__all__ = ["DEFAULT_TEMP_DIR", "Client", "ComponentApiType", "Endpoint", "Job"]

#: Where file outputs go unless ``download_files`` says otherwise: ``$GRADIO_TEMP_DIR``, else
#: ``<the system's temporary folder>/gradio`` (the official ``DEFAULT_TEMP_DIR``'s value).
DEFAULT_TEMP_DIR: str = DEFAULT_DOWNLOAD_DIR
