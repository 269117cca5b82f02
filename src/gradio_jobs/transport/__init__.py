"""Everything that touches a socket."""

from .heartbeat import Heartbeat
from .http import HttpTransport
from .stream import JobSink, SessionStream

__all__ = ["Heartbeat", "HttpTransport", "JobSink", "SessionStream"]
