"""Everything that touches a socket."""

from .http import HttpTransport
from .stream import JobSink, SessionStream

__all__ = ["HttpTransport", "JobSink", "SessionStream"]
