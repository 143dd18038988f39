"""scripts/serve.sh: two replicas behind nginx, each session kept on one of them.

Starts serve.sh with 2 replicas and opens four protocol sessions through nginx
(tests/st_client.py sends back the cookies the server sets, as a browser does) on a
short playground run, presses Train in all, and checks that every run finished
without an error; that new sessions went to the replicas in turn (two each); that
nginx's access log shows every request that carried a replica's cookie (host-config,
websocket, download) served by that replica, and each session's websocket among
them; that a session's download (made in its replica on request, then fetched over
HTTP) comes back through nginx and is not found with the other replica's cookie; and
that stopping serve.sh stops the replicas.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import urllib.error
import urllib.request

import psutil
import pytest

from bench.classroom import ClassroomClient, read_replicas
from tests.browser import NGINX, replicas_server, serve_run

pytestmark = [
    pytest.mark.browser,  # two live servers: run with the tests that time a live app, one at a time
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="nginx is not installed (apt-get install nginx-light)"),
]

PORT, REPLICA_PORT = 8509, 8608  # the front and the first replica; the benchmarks use 8500 and 8601..
SESSIONS = 4
QUERY = "depth=3&steps=60&seed={}"  # a run of a second or two; seeds apart, so are the files
COOKIE = "vangrad_replica"
ASK, DOWNLOAD = "Download the data", "Loss and accuracy (CSV)"
# a line of nginx's access log as serve.sh writes it (log_format replica)
LOG_LINE = re.compile(r'"\S+ (?P<path>\S+) [^"]*" (?P<status>\d+) cookie=(?P<cookie>\S+) replica=(?P<replica>\S*)')


def access_log() -> list[dict[str, str]]:
    text = (serve_run(PORT) / "access.log").read_text()
    return [match.groupdict() for match in map(LOG_LINE.search, text.splitlines()) if match]


async def classroom(url: str) -> tuple[list[ClassroomClient], dict[str, bytes], list[str]]:
    """SESSIONS sessions, all trained; a download from one session on each replica; what
    fetching that file with the other replica's cookie gave."""
    clients = [ClassroomClient(url) for _ in range(SESSIONS)]
    try:
        for i, client in enumerate(clients):  # one after another: each one's first request is new to nginx
            client.query_string = QUERY.format(i)
            await client.connect()
            await client.wait_first_run(180)  # a replica's first session imports PyTorch
        await asyncio.gather(*(c.press_train() for c in clients))
        try:
            await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in clients)), 240)
        except TimeoutError:
            late = [(c.query_string, c.step) for c in clients if not c.finished.is_set()]
            raise AssertionError(f"runs not finished within 240 s: {late}") from None
        first_on: dict[str, ClassroomClient] = {}
        for client in clients:
            first_on.setdefault(client.cookies[COOKIE], client)
        firsts = list(first_on.values())
        files, elsewhere = {}, []
        for client, other in zip(firsts, reversed(firsts), strict=True):
            file_url, files[client.cookies[COOKIE]] = await client.download(ASK, DOWNLOAD)
            try:  # the file with the other replica's cookie: that replica never made it
                await asyncio.to_thread(other.get, file_url)
                elsewhere.append("found")
            except urllib.error.HTTPError as error:
                elsewhere.append(str(error.code))
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return clients, files, elsewhere


def test_two_replicas_share_a_class_and_keep_each_session():
    with replicas_server(2, PORT, REPLICA_PORT) as url:
        replicas = read_replicas(str(serve_run(PORT) / "replicas"))
        clients, files, elsewhere = asyncio.run(classroom(url))
        asked = urllib.request.Request(f"{url}/app/static/chart_in_place.js", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(asked, timeout=10) as answer:  # the charts' code, compressed by nginx, kept a day
            chart_code = (answer.status, answer.headers["Content-Encoding"], answer.headers["Cache-Control"])
        log = access_log()  # the websockets are logged now that they are closed
    addresses = [f"127.0.0.1:{r.port}" for r in replicas]
    assert [r.port for r in replicas] == [REPLICA_PORT, REPLICA_PORT + 1]
    assert not any(psutil.pid_exists(r.pid) for r in replicas), "stopping serve.sh should stop its replicas"

    for client in clients:
        assert client.exceptions == [] and client.client_error is None and client.press_error is None
        assert not client.disconnected
        assert client.step is not None and (client.step.step, client.step.status) == (60, "finished")
    served = collections.Counter(c.cookies[COOKIE] for c in clients)
    assert served == {address: SESSIONS // 2 for address in addresses}
    # one file from each replica, each the run's loss curve, through nginx
    assert sorted(files) == addresses
    assert all(data.startswith(b"step,loss") for data in files.values())
    assert elsewhere == ["404", "404"]
    assert chart_code == (200, "gzip", "max-age=86400")

    sticky = [line for line in log if line["cookie"] != "-"]
    assert [line for line in sticky if line["replica"] != line["cookie"]] == []
    websockets = collections.Counter(line["cookie"] for line in sticky if line["path"] == "/_stcore/stream")
    assert websockets == served
    assert {line["path"] for line in sticky} >= {"/_stcore/host-config", "/_stcore/stream"}
    # each file, by its maker and not (and again by its maker if a full run dropped it first: `download`)
    assert sum(line["path"].startswith("/media/") for line in sticky) >= 2 + 2
