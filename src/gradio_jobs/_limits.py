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
#: Messages held for jobs whose join answer has not been handled yet...
EARLY_MEMORY = 10_000
#: ...and their bytes (the oldest go first beyond it): a server sending messages for ids no
#: job has cannot fill memory with them. A real job's messages wait there only for the moment
#: between the server taking it and its join answer being handled.
EARLY_BYTES = 64 << 20

# -- heartbeat ------------------------------------------------------------------------------------

#: The server says ALIVE every 15 s: a minute of silence means the connection is dead.
HEARTBEAT_TIMEOUT = (10.0, 60.0)
#: Backoff between reconnections of the heartbeat: first delay, and the most it grows to.
HEARTBEAT_FIRST_DELAY = 1.0
HEARTBEAT_MAX_DELAY = 60.0
#: A connection that stayed up this long was healthy: the next drop starts the backoff afresh.
HEARTBEAT_HEALTHY_AFTER = 30.0

# -- bounds against a misbehaving server ------------------------------------------------------------
# Each is the default of a ``ClientOptions`` field (None there switches it off).

#: ``max_message_size``: the largest single event-stream message (one SSE event, one
#: websocket frame). Real outputs travel inside one message (a big JSON table, an image as a
#: data URL): 64 MiB is far above what a real app sends, and still bounds a server that sends
#: an endless line (the decoder would otherwise buffer it until memory runs out).
MAX_MESSAGE_SIZE = 64 << 20
#: ``max_answer_size``: the largest JSON answer read whole (``/config``, ``/info``, join and
#: upload answers, run/predict), counted after decompression. Real configs are well under
#: a few MiB; 32 MiB leaves room for apps with huge examples and bounds a gzip bomb.
MAX_ANSWER_SIZE = 32 << 20
#: ``max_redirects``: redirects followed per request (httpx's own default is 20). A Space or
#: a proxy redirects once or twice; ten is generous and ends a redirect loop early.
MAX_REDIRECTS = 10
#: ``min_transfer_rate`` over ``transfer_window``: a body (a download, a JSON answer) must bring
#: at least this many bytes per second, averaged over each window. A per-read timeout alone is
#: defeated by a server sending one byte every few seconds; an average over a window is not,
#: and 1 KiB/s (30 KiB per 30 s) is far below any real link, so only a stalled server fails.
MIN_TRANSFER_RATE = 1024
TRANSFER_WINDOW = 30.0
#: A 3.x queue websocket waits this long for the server's side of a closing handshake
#: (websockets' default: 10 s). A real server answers at once; one that keeps sending instead
#: (after a frame over ``max_message_size``, refused with 1009) fails its job after this.
WEBSOCKET_CLOSE_TIMEOUT = 2.0
#: Decompression inflates at most this much at a time, so a gzip bomb never holds more than
#: one piece of this size in memory beyond what the limits above allow (httpx's own decoder
#: inflates a whole network read at once: up to ~1000x it).
DECODE_PIECE = 1 << 20

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
