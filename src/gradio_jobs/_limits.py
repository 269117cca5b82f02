"""Every fixed number the library runs by (timeouts, sizes, counts), in one place, with why.

What a user may choose is in :class:`~gradio_jobs.ClientOptions`; these are the numbers
behind it. This module imports nothing of gradio-jobs (nor httpx: ``import gradio_jobs``
does not load the HTTP stack until a client connects): every layer may read it. Timeouts
are ``(connect, read/write/pool)`` pairs of seconds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# -- where files go ------------------------------------------------------------------------------

#: Where file outputs go unless ``download_files`` says otherwise (as in ``gradio_client``).
DEFAULT_DOWNLOAD_DIR = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")

# -- HTTP ---------------------------------------------------------------------------------------

#: A request that gets no answer for 30 s is treated as a frozen server.
REQUEST_TIMEOUT = (10.0, 30.0)
#: httpcore's pool scans every connection for every waiting request whenever anything changes:
#: with thousands of requests queued in it, it spends all its time there (measured: 2,000 joins
#: made no progress in 30 s), and each scan costs more per pooled connection. So requests queue
#: in the transport instead, in order, and no more reach the pool than it has connections.
MAX_REQUESTS_IN_FLIGHT = 8
#: Idle connections are dropped before the server (uvicorn: 5 s) does, so a request is never
#: sent on a connection the server is closing at that moment.
KEEPALIVE_EXPIRY = 2.0
#: The sessions' long-lived event streams get a pool of their own, unbounded.
STREAM_KEEPALIVE_CONNECTIONS = 8
#: Downloads at once per client; more wait their turn.
MAX_TRANSFERS = 8
#: Files of one job uploading at once (each transfer holds a connection).
MAX_UPLOADS = 4
#: Files of one job downloading at once.
MAX_DOWNLOADS = 4

# -- files ----------------------------------------------------------------------------------------

#: Bytes an upload reads (and sends) at a time.
CHUNK_SIZE = 1 << 20
#: A download hands what arrived to its writer thread in batches of at least this size...
WRITE_BATCH = 1 << 20
#: ...and stops receiving while this much waits for a disk slower than the network.
MAX_UNWRITTEN = 4 << 20
#: A transfer may take long; only silence this long means the server is gone. This is the
#: default only: a ``timeout`` in ``httpx_kwargs`` governs uploads and downloads too (a slow
#: link may need more, a caller that must not hang less).
TRANSFER_TIMEOUT = (10.0, 60.0)
#: Threads for one transport's file-system work (started only as work comes, stopped on close).
FILE_IO_THREADS = 4

# -- the session's event stream --------------------------------------------------------------------

#: Finished event ids remembered, to drop the duplicate completions a cancel may bring.
FINISHED_MEMORY = 10_000
#: Messages held for jobs whose join answer has not been handled yet.
EARLY_MEMORY = 10_000

# -- heartbeat ------------------------------------------------------------------------------------

#: The server says ALIVE every 15 s: a minute of silence means the connection is dead.
HEARTBEAT_TIMEOUT = (10.0, 60.0)
#: Backoff between reconnections of the heartbeat: first delay, and the most it grows to.
HEARTBEAT_FIRST_DELAY = 1.0
HEARTBEAT_MAX_DELAY = 60.0
#: A connection that stayed up this long was healthy: the next drop starts the backoff afresh.
HEARTBEAT_HEALTHY_AFTER = 30.0

# -- cancelling -----------------------------------------------------------------------------------

#: How long a killing cancel waits for the stream to mark which jobs it hit before the next
#: kill of the same endpoint and session may go (see ``_cancelling``).
KILL_MARKER_TIMEOUT = 10.0

# -- Hugging Face Spaces ----------------------------------------------------------------------------

#: A Hub call that takes longer than this is given up (huggingface_hub sets no timeout).
HUB_CALL_TIMEOUT = 20.0
#: Waking a sleeping Space is one request whose answer does not matter.
WAKE_TIMEOUT = 5.0
#: Polling a starting Space: first delay, and the most it grows to.
FIRST_POLL_DELAY = 0.5
MAX_POLL_DELAY = 5.0
#: Threads for one Space's Hub calls (a call that timed out may still hold one until
#: huggingface_hub gives up; the pool ends with the lookup).
HUB_THREADS = 2
