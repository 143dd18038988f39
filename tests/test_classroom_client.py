"""The load harness's protocol client (tests/st_client.py) trains a run to the end.

Starts the app, opens one session over Streamlit's websocket protocol (no browser)
on the first lecture scenario, presses Train, and follows the live view's fragment
timers until the run has finished.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.classroom import ClassroomClient
from tests.browser import streamlit_server

pytestmark = pytest.mark.browser

SCENARIO = "Deep sigmoid stalls"  # depth 20, 500 steps


async def train_once(url: str, timeout: float) -> ClassroomClient:
    client = ClassroomClient(url, SCENARIO)
    await client.connect()
    try:
        await client.wait_first_run(timeout)
        await client.press_train()
        await asyncio.wait_for(client.finished.wait(), timeout)
    finally:
        await client.close()
    return client


def test_protocol_client_trains_a_scenario_to_the_end():
    with streamlit_server() as url:
        # generous: the first run imports torch, and the machine may be busy
        client = asyncio.run(train_once(url, timeout=120))
    assert client.exceptions == []
    assert not client.disconnected and client.client_error is None and client.press_error is None
    assert client.step is not None
    assert (client.step.step, client.step.steps, client.step.status) == (500, 500, "finished")
    assert client.first_update_s is not None and client.first_update_s <= client.finished_s
    assert len(client.updates) >= 2, "the live view should have refreshed while training"
