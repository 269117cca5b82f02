"""Which request stops a job on the server without taking its siblings down.

The server's ``POST cancel {fn_index, session_hash, event_id}`` does three things
(read in the server code of 4.31 to 6.31, and measured):

1. it kills every *running* task named ``<session_hash>_<fn_index>``: every running job of
   that endpoint in that session, not only the one named;
2. it removes ``event_id`` from the waiting queue (6.14 and later only);
3. for ``event_id`` it pushes an empty ``process_completed`` and closes its generator.

Steps 2 and 3 are keyed by ``event_id``, step 1 by ``fn_index``. So a request whose
``fn_index`` names no endpoint (:data:`NO_TASK`) dequeues a waiting job (6.14 and later)
while killing nothing: a *targeted* cancel.

Measured on 4.44.1, 5.50.0 and 6.31.0, and read in the server code:

- Step 3 does not stop a generator: the server drops (or closes) the iterator and, at the
  next step, calls the generator afresh. Only step 1 stops it, between two steps. So a
  running generator gets the *killing* cancel; the siblings that it takes down are found
  afterwards (``AsyncClient._siblings_killed``) and submitted again. The empty completion of
  the job a kill names is the only mark in the stream of which jobs it hit, so the kills of
  one endpoint in one session go one at a time, each after the last one's mark was read:
  a second kill naming a job the first already stopped would push no mark and take down
  the jobs started since, unheard (measured on 6.31: they hung after ``process_starts``).
- Step 1 cannot interrupt a plain (sync) function: it runs in a worker thread, and killing
  its task only waits for the thread to finish and throws the result away (killing its
  siblings' results too). So nothing is sent for a running plain function: the outcome is
  "server continues", and its result is dropped when it comes.
- Older generations have no ``cancel`` route (measured on 3.50.2, 4.8.0 and 4.16 to 4.21):

  - Where each job has its own connection (the 3.x websocket, the 4.0 to 4.8 job stream),
    dropping it is the cancel: a waiting job leaves the queue and a running generator
    stops at its next step; a running plain function still runs to its end.
  - On the session stream before 4.31, ``POST reset {event_id}`` stops a running generator
    at its next step (no message follows) and does nothing to a waiting job or a plain
    function. (On 3.x ``reset`` restarts the generator instead: never sent there.)
  - A call that bypassed the queue (``run/predict``) cannot be stopped.

- Before 5.46 the server's stream breaks (KeyError) when a job it already completed by a
  cancel completes again. A job that will still run must therefore never get the empty
  completion: a waiting job on a server that cannot dequeue (before 6.14) is left alone
  until it starts, and is then handled as a running one.
"""

from __future__ import annotations

import enum

from . import events as ev
from .api import Endpoint
from .capabilities import Capabilities, Route

__all__ = ["CancelAction", "NO_TASK", "plan_cancel", "Phase", "outcome_of_stopping"]

#: An ``fn_index`` no endpoint has, so that step 1 of the server's cancel matches no task.
NO_TASK = -1


class Phase(enum.Enum):
    JOINING = "joining"  # the join request is in flight: no id yet
    QUEUED = "queued"  # joined, not started
    RUNNING = "running"  # a worker has started it


class CancelAction(enum.Enum):
    #: Nothing to send yet: act again once the job has an id, or once it starts.
    WAIT = "wait"
    #: ``POST cancel`` with :data:`NO_TASK`: takes a waiting job off the queue, harms nothing.
    TARGETED = "targeted"
    #: ``POST cancel`` with the endpoint's ``fn_index``: kills the running task (and siblings).
    KILL = "kill"
    #: Nothing can stop it: the server runs the job to its end ("server continues").
    NONE = "none"
    #: Drop the job's own connection (routes where each job has one).
    CLOSE = "close"
    #: ``POST reset {event_id}``: stops a running generator on servers before the cancel route.
    RESET = "reset"


def plan_cancel(caps: Capabilities, endpoint: Endpoint, phase: Phase) -> CancelAction:
    """What to send to stop a job of ``endpoint`` in ``phase`` on a server with ``caps``."""
    if phase is Phase.JOINING:
        return CancelAction.WAIT
    route = caps.route_for(endpoint)
    if route is Route.DIRECT:
        return CancelAction.NONE
    if route is not Route.SESSION_STREAM:
        return CancelAction.CLOSE
    if not caps.cancel_route:
        if caps.reset_by != "event_id":
            return CancelAction.NONE
        if phase is Phase.QUEUED:
            return CancelAction.WAIT
        return CancelAction.RESET if endpoint.is_generator else CancelAction.NONE
    if phase is Phase.QUEUED:
        return CancelAction.TARGETED if caps.cancel_dequeues else CancelAction.WAIT
    return CancelAction.KILL if endpoint.is_generator else CancelAction.NONE


def outcome_of_stopping(caps: Capabilities, endpoint: Endpoint, phase: Phase) -> str:
    """What the server does with a job when the client drops its connection (or its
    session's stream) in ``phase``; also what a reset does to a running generator."""
    if phase is Phase.JOINING:
        return ev.OUTCOME_NEVER_SENT
    if caps.route_for(endpoint) is Route.DIRECT or not caps.dropping_cancels:
        return ev.OUTCOME_SERVER_CONTINUES
    if phase is Phase.QUEUED:
        return ev.OUTCOME_DEQUEUED
    return ev.OUTCOME_STOPPED if endpoint.is_generator else ev.OUTCOME_SERVER_CONTINUES
