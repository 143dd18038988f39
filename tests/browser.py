"""Start the app with `streamlit run` (or scripts/serve.sh: replicas behind nginx) and
drive it with Debian's Chromium (Playwright).

Shared by the browser tests and the browser benchmarks. Readiness is checked the
way Streamlit's own end-to-end tests do: the health endpoint, then the app root's
connection and script state.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("VANGRAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # many pages in one browser stand for many students' machines: don't throttle
    # the ones that are not in front
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
APP_ROOT = '[data-testid="stApp"]'
CHART = ".vangrad-chart"  # a chart's Plotly div (static/chart_in_place.js)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian's, in /usr/sbin (often not on a user's PATH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(
    port: int | None = None, timeout: float = 60, env: dict[str, str] | None = None, script: str = "app.py"
) -> Iterator[str]:
    """Run the app (or another `script`, with the app's settings) on a free local port,
    with `env` added to the environment; yields its URL."""
    port = port or free_port()
    (ROOT / "test-results").mkdir(exist_ok=True)
    log = open(ROOT / "test-results" / f"streamlit-{port}.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=os.environ | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# What the server logs when its sweep releases the runs of closed tabs (views/ui/live.py)
RELEASED = re.compile(r"released (\d+) runs of closed tabs; (\d+) runs live")


def server_log(url: str) -> Path:
    """The log of the server `streamlit_server` started at `url`."""
    return ROOT / "test-results" / f"streamlit-{url.rsplit(':', 1)[1]}.log"


def releases(log: Path) -> list[tuple[int, int]]:
    """(released, still live) for every sweep that released runs, from a server's log."""
    return [(int(a), int(b)) for a, b in RELEASED.findall(log.read_text())]


def wait_released(log: Path, runs: int, timeout: float = 60) -> None:
    """Until the server's sweeps have released `runs` runs in all and no run is live."""
    deadline = time.monotonic() + timeout
    while True:
        sweeps = releases(log)
        if sum(count for count, _ in sweeps) >= runs and (not sweeps or sweeps[-1][1] == 0):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(log.read_text()[-2000:])
        time.sleep(0.1)


@contextlib.contextmanager
def replicas_server(replicas: int, port: int = 8500, replica_port: int = 8601, timeout: float = 180) -> Iterator[str]:
    """scripts/serve.sh: `replicas` app processes (127.0.0.1:replica_port, ...) behind
    nginx on 127.0.0.1:port; yields nginx's URL. Its files are in `serve_run(port)`."""
    (ROOT / "test-results").mkdir(exist_ok=True)
    log = open(ROOT / "test-results" / f"serve-{port}.log", "w")
    command = ["bash", "scripts/serve.sh", "--replicas", str(replicas), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--replica-port", str(replica_port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed as one if it does not stop
    )
    try:
        deadline = time.monotonic() + timeout
        # ready when it says so: its own health checks done (they would take a replica's turn)
        while not (ready := re.search(r"serving (http://\S+);", Path(log.name).read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scripts/serve.sh did not start; see {log.name}")
            time.sleep(0.3)
        yield ready[1]
    finally:
        process.terminate()  # serve.sh's trap stops nginx and the replicas, and waits for them
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def serve_run(port: int) -> Path:
    """scripts/serve.sh's folder for the front on `port`: nginx.conf, access.log, `replicas`."""
    return ROOT / ".run" / f"serve-{port}"


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Connected, and the script has finished its run. If not in time: the page as it
    was then, in test-results/ (two CI runs once waited a minute for "connected" with
    the server well and nothing in its log), and its states in the error."""
    try:
        page.wait_for_selector(f'{APP_ROOT}[data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
        page.wait_for_selector(f'{APP_ROOT}[data-test-script-state="notRunning"]', timeout=timeout_ms)
    except Exception as error:
        shot = ROOT / "test-results" / f"wait-for-app-{time.strftime('%H%M%S')}.png"
        shot.parent.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), timeout=10_000)
        states = "unknown (the page did not answer)"
        with contextlib.suppress(Exception):
            states = page.evaluate(
                f"() => ['connection-state', 'script-state'].map(a => "
                f"document.querySelector('{APP_ROOT}')?.getAttribute('data-test-' + a))"
            )
        waited = f"{page.url}: not ready in {timeout_ms / 1000:g} s"
        raise AssertionError(f"{waited}; states {states}; see {shot}") from error


# The first charts' boxes at a moment the page is at rest: no script running, nothing stale, every chart
# drawn (a chart not drawn yet has no Plotly svg, only the height it keeps for it); reading boxes one by
# one could straddle a rerun on a busy machine.
SETTLED_CHART_BOXES = f"""count => {{
    const app = document.querySelector('{APP_ROOT}');
    const running = app?.getAttribute('data-test-script-state') !== 'notRunning';
    if (running || document.querySelector('[data-stale="true"]')) return null;
    const charts = [...document.querySelectorAll('{CHART}')].slice(0, count);
    const boxes = charts.map(chart => chart.getBoundingClientRect());
    if (boxes.length < count || charts.some(chart => !chart.querySelector('.main-svg'))) return null;
    return boxes.map(box => ({{x: box.x, y: box.y, width: box.width, height: box.height}}));
}}"""


def settled_chart_boxes(page, count: int, timeout_ms: int = 60_000) -> list[dict[str, float]]:
    """The first `count` charts' boxes (x, y, width, height) read together once the page is at rest."""
    return page.wait_for_function(SETTLED_CHART_BOXES, arg=count, timeout=timeout_ms).json_value()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
