"""Clients connected to the per-version test servers (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from gradio_jobs import AsyncClient, Client


@pytest.fixture
def client(server):
    with Client(server.url, verbose=False) as c:
        yield c


@pytest.fixture
async def aclient(server):
    async with AsyncClient(server.url, verbose=False) as c:
        yield c
