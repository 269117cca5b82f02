"""ZeroGPU quota errors: recognising them in an app error's text, and reading the wait. No I/O.

A Hugging Face Space on ZeroGPU hardware runs its functions through the ``spaces`` package
(PyPI). When the caller's GPU quota is spent, ``spaces`` raises a ``gr.Error`` whose text
says so, and sometimes how long to wait. Its words changed from release to release; these
are every form its releases 0.19 to 0.51 produce (read from their ``spaces/zero/client.py``),
with ``W`` the wait as ``str(datetime.timedelta)`` (``0:02:13``, ``1 day, 2:03:04``,
``0:00:05.500000``):

=======  ================================================================================  ======
spaces   the message (``G`` is ``GPU``, ``free GPU``, ``Pro GPU``; from 0.51 ``ZeroGPU``,    wait
         ``free ZeroGPU``, ``Pro ZeroGPU``)
=======  ================================================================================  ======
0.19+    ``You have exceeded your GPU quota``                                              no
0.24+    ``You have exceeded your GPU quota (Ls left vs. Rs requested). Please retry in W``  yes
0.28+    ``... requested). Sign-up on Hugging Face to get more quotas or retry in W`` (0.29:  yes
         the same with ``<a href=...>Sign-up on Hugging Face</a>`` or ``Subscribe to Pro``)
0.30+    ``You have exceeded your G quota (Rs requested vs. Ls left). Try again in W``        yes
         (Pro users, or gradio without login support); otherwise the same followed by a
         link (HTML, or Markdown ``[Create a free account](https://huggingface.co/join) to
         get more [daily] usage quota.`` / ``[Subscribe to Pro](...) to get 5x more ...``)   no
0.34+    ``You have exceeded your G quota (Rs requested vs. Ls left).``                      no
0.34+    ``You have exceeded your runs limit.`` (0.51: ``your ZeroGPU runs limit.``)         no
0.34+    ``Space app has reached its GPU limit. Try re-running outside of examples if it     no
         happened after clicking one``
0.34+    ``No GPU was available after 60s. Try re-running outside of examples if it          no
         happened after clicking one`` (titled "ZeroGPU quota exceeded" by ``spaces``)
0.36+    ``You have exceeded your G quota (Rs requested vs. Ls left). Try again in W``        yes
         (0.51: ``Try again in W.`` and a hint: ``Authenticate with a Hugging Face token
         for more quota - <url>``, ``Subscribe to Hugging Face PRO ... - <url>`` or ``Add
         credits to keep using ZeroGPU. ...``)
0.37+    to MCP clients: ``Unlogged user is runnning out of daily ZeroGPU quotas. ...`` or    no
         ``User is runnning out of daily ZeroGPU quotas. ...``
0.51     ``You have too many ZeroGPU credits allocated to running tasks. Try again once      no
         some of those tasks have completed.``
=======  ================================================================================  ======

From gradio 4.41 ``spaces`` also gives the error a title, ``"ZeroGPU quota exceeded"`` (or
``"ZeroGPU pending credits exceeded"``); servers of gradio 5 and later send it. A message with
one of those titles is a quota error whatever its text.

Not quota errors (waiting does not help, or it is not the caller's quota): ``The requested
GPU duration (Rs) is larger than the maximum allowed`` ("ZeroGPU illegal duration"),
``GPU task aborted``, ``No GPU was available`` (the Space's GPUs are busy), ``No GPU was
available after 60s`` followed by a sign-up link ("ZeroGPU queue timeout").

Beyond what ``spaces`` writes, ``retry in``/``try again in`` followed by an amount in words
(``5 hours``, ``2 minutes and 30 seconds``, ``90s``) is read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["QUOTA_TITLES", "QuotaInfo", "parse_quota_message", "parse_wait"]

#: The ``gr.Error`` titles ``spaces`` gives its quota errors.
QUOTA_TITLES = frozenset({"ZeroGPU quota exceeded", "ZeroGPU pending credits exceeded"})

#: Phrases that make a message a quota error (matched case-insensitively, anywhere in it).
_QUOTA_PHRASES = re.compile(
    r"exceeded\s+your\s+(?:(?:pro|free)\s+)?(?:zero)?gpu\s+quota"
    r"|exceeded\s+your\s+(?:zerogpu\s+)?runs\s+limit"
    r"|space\s+app\s+has\s+reached\s+its\s+gpu\s+limit"
    r"|run+ing\s+out\s+of\s+daily\s+zerogpu\s+quota"
    r"|too\s+many\s+zerogpu\s+credits\s+allocated"
    r"|no\s+gpu\s+was\s+available\s+after\s+\d+s\.\s+try\s+re-running\s+outside\s+of\s+examples",
    re.IGNORECASE,
)

#: ``str(datetime.timedelta)``: ``[D day[s], ]H:MM:SS[.ffffff]``.
_CLOCK = r"(?:(?P<days>-?\d+)\s+days?,\s*)?(?P<hours>-?\d+):(?P<minutes>\d{1,2}):(?P<seconds>\d{1,2}(?:\.\d+)?)"
_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip
_AMOUNT = r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\b"
_AMOUNTS = r"(?:\d+(?:\.\d+)?\s*[a-z]+\b(?:\s*(?:,|and)?\s*)?)+"
_WAIT_AFTER = re.compile(rf"(?:retry|try\s+again)\s+in\s+(?P<wait>{_CLOCK}|{_AMOUNTS})", re.IGNORECASE)
_CLOCK_RE = re.compile(rf"^{_CLOCK}$")
_AMOUNT_RE = re.compile(_AMOUNT, re.IGNORECASE)


@dataclass(frozen=True)
class QuotaInfo:
    """What a quota error's text says: ``retry_after``, the seconds to wait before trying
    again (None when the message names no wait: a daily quota, a runs limit)."""

    retry_after: float | None


def parse_wait(text: str) -> float | None:
    """Seconds in a wait as ``spaces`` writes it (``str(timedelta)``: ``"0:02:13"``,
    ``"1 day, 2:03:04"``, ``"0:00:05.5"``) or in words (``"5 hours"``, ``"2 minutes and 30
    seconds"``, ``"90s"``). ``text`` is the wait alone; None if it is neither form. A
    negative wait counts as 0."""
    text = text.strip().rstrip(".").strip()
    clock = _CLOCK_RE.match(text)
    if clock is not None:
        days = int(clock["days"] or 0)
        total = days * 86400.0 + int(clock["hours"]) * 3600.0 + int(clock["minutes"]) * 60.0 + float(clock["seconds"])
        return max(total, 0.0)
    amounts = list(_AMOUNT_RE.finditer(text))
    if not amounts:
        return None
    # Every part of the text must be an amount (or a separator between two).
    rest = _AMOUNT_RE.sub("", text)
    if re.sub(r"[\s,]|\band\b", "", rest, flags=re.IGNORECASE):
        return None
    return sum(float(a["n"]) * _UNITS[a["unit"].lower()] for a in amounts)


def parse_quota_message(message: str | None, title: str | None = None) -> QuotaInfo | None:
    """Whether an app error is a ZeroGPU quota error, and the wait it names.

    ``message`` is the error's text as the server sent it (None: the app hid it) and
    ``title`` its title, where the server sends one (gradio 5 and later; default None).
    Returns None for any other error. See the module docstring for the forms recognised.
    """
    if message is None:
        return None
    text = str(message)
    if not (_QUOTA_PHRASES.search(text) or (title is not None and title.strip() in QUOTA_TITLES)):
        return None
    wait = _WAIT_AFTER.search(text)
    return QuotaInfo(retry_after=parse_wait(wait["wait"]) if wait is not None else None)
