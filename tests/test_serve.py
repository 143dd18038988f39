"""scripts/serve.sh: two replicas behind nginx, each session kept on one of them.

Starts serve.sh with 2 replicas, opens protocol sessions (tests/st_client.py, which
sends back the cookies the server sets, as a browser does) through nginx on a short
playground run until each replica holds two, presses Train in all, and checks that
every run finished without an error; that a session's download (made in its replica
on request, then fetched over HTTP) comes back through nginx and is not found with
another replica's route; that nginx's access log shows every request of a session
(health, host-config, websocket, download) on one replica; and that stopping
serve.sh stops the replicas.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import urllib.error

import psutil
import pytest

from bench.classroom import ClassroomClient, read_replicas
from tests.browser import NGINX, replicas_server, serve_run

pytestmark = [
    pytest.mark.browser,  # two live servers: run with the tests that time a live app, one at a time
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="nginx is not installed (apt-get install nginx-light)"),
]

PORT, REPLICA_PORT = 8509, 8608  # the front and the first replica; the benchmarks use 8500 and 8601..
QUERY = "depth=3&steps=60&seed={}"  # a run of a second or two; seeds apart, so are the files
ROUTE_COOKIE = "vangrad_route"
DOWNLOAD = "Loss and accuracy (CSV)"
EACH = 2  # sessions wanted on each replica
MOST = 20  # sessions opened at most: all 20 on one replica has probability 2 x 2^-20
# a line of nginx's access log as serve.sh writes it (log_format replica)
LOG_LINE = re.compile(r'"\S+ (?P<path>\S+) [^"]*" (?P<status>\d+) route=(?P<route>\S+) replica=(?P<replica>\S*)')


def access_log() -> list[dict[str, str]]:
    text = (serve_run(PORT) / "access.log").read_text()
    return [match.groupdict() for match in map(LOG_LINE.search, text.splitlines()) if match]


async def download_url(client: ClassroomClient, label: str) -> str:
    """A download button's file, made in the session's replica. Each full run draws the
    buttons anew and drops the old ones' files, so a click between a run's end and the
    new buttons' arrival finds its file gone (a browser's would too): click again."""
    for _ in range(10):
        try:
            return await client.download_url(label)
        except RuntimeError:
            await asyncio.sleep(0.5)
    return await client.download_url(label)


def replica_of(client: ClassroomClient) -> str:
    """The replica nginx chose for this session's first request (logged when it ends)."""
    return next(line["replica"] for line in access_log() if line["route"] == client.cookies[ROUTE_COOKIE])


async def classroom(url: str) -> tuple[list[ClassroomClient], dict[str, bytes], list[str]]:
    """Sessions until each replica holds EACH, all trained; a download from one session
    on each replica; what fetching that file with the other replica's route gave."""
    clients: list[ClassroomClient] = []
    on: dict[str, list[ClassroomClient]] = collections.defaultdict(list)
    try:
        while len(clients) < MOST and (len(on) < 2 or min(map(len, on.values())) < EACH):
            client = ClassroomClient(url)
            client.query_string = QUERY.format(len(clients))
            clients.append(client)
            await client.connect()
            await client.wait_first_run(180)  # a replica's first session imports PyTorch
            on[replica_of(client)].append(client)
        await asyncio.gather(*(c.press_train() for c in clients))
        try:
            await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in clients)), 240)
        except TimeoutError:
            late = [(c.query_string, c.step) for c in clients if not c.finished.is_set()]
            raise AssertionError(f"runs not finished within 240 s: {late}") from None
        firsts = [sessions[0] for sessions in on.values()]
        files, elsewhere = {}, []
        for client, other in zip(firsts, reversed(firsts), strict=True):
            file_url = await download_url(client, DOWNLOAD)
            files[replica_of(client)] = await asyncio.to_thread(client.get, file_url)
            try:  # the file with the other replica's route: that replica never made it
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
        log = access_log()  # the websockets are logged now that they are closed
    assert [r.port for r in replicas] == [REPLICA_PORT, REPLICA_PORT + 1]
    assert not any(psutil.pid_exists(r.pid) for r in replicas), "stopping serve.sh should stop its replicas"

    for client in clients:
        assert client.exceptions == [] and client.client_error is None and client.press_error is None
        assert not client.disconnected
        assert client.step is not None and (client.step.step, client.step.status) == (60, "finished")
    # one file from each replica, each the run's loss curve, through nginx
    assert sorted(files) == [f"127.0.0.1:{r.port}" for r in replicas]
    assert all(data.startswith(b"step,loss") for data in files.values())
    assert elsewhere == ["404", "404"]

    by_route = collections.defaultdict(list)
    for line in log:
        by_route[line["route"]].append(line)
    served = collections.Counter()
    for client in clients:
        lines = by_route[client.cookies[ROUTE_COOKIE]]
        paths = [line["path"] for line in lines]
        assert "/_stcore/health" in paths and "/_stcore/host-config" in paths and "/_stcore/stream" in paths
        assert {line["replica"] for line in lines} == {lines[0]["replica"]}, f"a session moved: {lines}"
        served[lines[0]["replica"]] += 1
    assert sorted(served) == sorted(files) and min(served.values()) >= EACH, served
