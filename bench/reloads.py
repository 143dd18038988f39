"""A student reloading a page on the largest network, ten times: memory comes back.

One protocol client (tests/st_client.py) opens the playground on the largest network
its widgets allow (100 layers × 512 units, batch 1024), trains it a few steps and
closes the tab, then opens the same link again, as a reload does. After each reload,
once the server's sweep has released the closed tab's run (its log says so; the
release window shortened to 2 s; tests/test_release.py uses 1 s), the server's RSS, its
training worker included. Budget (docs/architecture.md, "Budgets"): after ten
reloads, within 10% of after one. Streamlit itself drops a closed session two
minutes after it went, whatever the app does; the server here keeps them for an hour
(`server.disconnectedSessionTTL`), so that what is measured is what the app lets go.

    python -m bench.reloads [--reloads 10] [--steps 3]
"""

from __future__ import annotations

import argparse
import asyncio

from bench.classroom import ClassroomClient, local_server, rss_mb
from tests.browser import releases, server_log, streamlit_server, wait_released

LARGEST = "depth=100&width=512&batch_size=1024"  # the widgets' maxima (vangrad_core.config.FIELDS)
BUDGET = 1.10  # RSS after the last reload / after the first
SERVER = {  # a closed tab's runs released after 2 s; Streamlit keeps closed sessions (default: 2 min)
    "VANGRAD_RELEASE_AFTER_SECONDS": "2",
    "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "3600",
}


async def reload_once(url: str, steps: int) -> ClassroomClient:
    """Open the largest network's link, train `steps` steps (none: only look), close."""
    tab = ClassroomClient(url)
    tab.query_string = f"{LARGEST}&steps={max(steps, 1)}"
    await tab.connect()
    await tab.wait_first_run(300)
    if steps:
        await tab.press_train()
        await asyncio.wait_for(tab.finished.wait(), 600)
    await tab.close()
    return tab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3, help="steps trained before each reload (0: only look)")
    args = parser.parse_args()
    with streamlit_server(env=SERVER) as url:
        log, server = server_log(url), local_server(url)
        held_mb = []
        for reload in range(1, args.reloads + 1):
            released = sum(count for count, _ in releases(log))
            tab = asyncio.run(reload_once(url, args.steps))
            if tab.failed:
                why = tab.exceptions or tab.press_error or tab.client_error or tab.close_reason
                raise SystemExit(f"reload {reload} failed: {why}")
            wait_released(log, released + 1)
            held_mb.append(rss_mb(server))
            print(f"reload {reload:3d}: server RSS {held_mb[-1]:6.0f} MB, no run live", flush=True)
    ratio = held_mb[-1] / held_mb[0]
    verdict = "ok" if ratio <= BUDGET else "NOT MET"
    print(f"RSS after {args.reloads} reloads / after 1: {ratio:.2f}  (budget <= {BUDGET:.2f}: {verdict})")


if __name__ == "__main__":
    main()
