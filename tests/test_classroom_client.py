"""Protocol clients (tests/st_client.py, no browser) on a live server.

Starts the app, opens one session over Streamlit's websocket protocol on the first
lecture scenario, presses Train, and follows the live view's fragment timers until
the run has finished. Then a student downloads a finished run's data while three
others train (their fragments' runs end many times a second, and each ending
collects the server's unreferenced files), clicking each file a second after its
button came: every file arrives.
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


TRAINING = "depth=20&steps=3000"  # runs that still train while the downloads are made
ASK = "Download the data"
FILES = ("Per-layer statistics (CSV)", "Loss and accuracy (CSV)", "Settings (JSON)")


async def download_while_others_train(url: str) -> tuple[list[bytes], list[ClassroomClient]]:
    student = ClassroomClient(url)
    student.query_string = "depth=3&steps=60"
    others = [ClassroomClient(url) for _ in range(3)]
    for other in others:
        other.query_string = TRAINING
    clients = [student, *others]
    try:
        await asyncio.gather(*(c.connect() for c in clients))
        await asyncio.gather(*(c.wait_first_run(120) for c in clients))
        await student.press_train()
        await asyncio.wait_for(student.finished.wait(), 120)
        await asyncio.gather(*(c.press_train() for c in others))
        while any(c.first_update_s is None for c in others):  # all three training
            await asyncio.sleep(0.1)
        files = [(await student.download(ASK, label, wait=1.0))[1] for label in FILES]
        training = [c for c in others if not c.finished.is_set()]
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return files, training


def test_a_download_clicked_a_second_late_arrives_while_others_train():
    with streamlit_server() as url:
        files, training = asyncio.run(download_while_others_train(url))
    assert len(training) == 3, "the other runs should still train while the files are fetched"
    layers, metrics, settings = files
    assert layers.startswith(b"step,layer,") and metrics.startswith(b"step,loss,")
    assert b'"steps": 60' in settings
