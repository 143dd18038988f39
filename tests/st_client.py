"""A Streamlit session without a browser: the frontend's side of the websocket protocol.

`StreamlitClient` does over one websocket what Streamlit 1.67's frontend does, so
that the server does the same work as for a browser while the client costs almost
nothing (read from the frontend bundled in the wheel, streamlit/static/static/js,
and the server in streamlit/web/server/starlette/starlette_websocket.py):

- connecting: GET /_stcore/health (which sets the `_streamlit_xsrf` cookie, and behind
  scripts/serve.sh's nginx the replica's cookie) and /_stcore/host-config, then a
  websocket to /_stcore/stream with the subprotocols ["streamlit", <xsrf token>], the
  Origin and the cookies; every request sends back the cookies the server has set;
- a run: a `BackMsg.rerun_script` (`ClientState`) with the query string, the page's
  script hash (before the first `navigation`: none, and the URL path as page_name),
  every widget's current value, the hashes of the cached messages, and the
  browser's context (timezone, locale, URL, colour scheme);
- widget values, as the frontend's widget hooks (useBasicWidgetState) keep them: a
  widget element sets its value from the element (`set_value`) or, the first time
  it is seen, from its default; otherwise the value it had is kept. Values of widgets
  no longer on the page are dropped when a run finishes (removeInactiveWidgetState);
- a button press: its `trigger_value` with all other values, in a rerun of the
  button's fragment (none: the whole script); the trigger is then forgotten;
- fragment timers: a ForwardMsg `auto_rerun` (interval, fragment id) starts a
  setInterval that sends a rerun of that fragment (`is_auto_rerun`) every interval,
  whether or not the previous one has finished (the server coalesces them); the
  same interval again is ignored; `stop_auto_rerun` and a full run's `new_session`
  clear the timers, and the new run's `auto_rerun` messages set them again;
- a download button: a GET of its file's URL, with the cookies (DownloadButton.tsx);
- the message cache: cacheable messages are kept by hash, sent back in each rerun's
  `cached_message_hashes`, and `ref_hash` messages are resolved from them; they
  expire after `max_cached_message_age` runs (ForwardMessageCache).

Subclasses see each element through `on_element`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

STREAM_PATH = "/_stcore/stream"
XSRF_COOKIE = "_streamlit_xsrf"
PLACEHOLDER_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends without a cookie
PRESS_AGAIN_SECONDS = 5  # a button's press that brought nothing this long is made again (`download`)
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "is_embedded": False, "color_scheme": "light"}

_FINISHED = ForwardMsg.ScriptFinishedStatus
# nothing on the way to 127.0.0.1 should go through a proxy from the environment
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---- widget values, as each widget component of the frontend keeps them ----------


def _option_label(option: Any) -> str:
    return f"{option.content_icon} {option.content}".strip() if option.content_icon else option.content


def widget_value(kind: str, element: Any) -> tuple[str, Any] | None:
    """(WidgetState field, value) for a widget element, from the element alone: its
    value if the server set one (`set_value`), else its default. None for elements
    that keep no value (buttons send only a trigger) and for widget types this app
    does not use."""
    current = getattr(element, "set_value", False)
    if kind == "checkbox":
        return "bool_value", element.value if current else element.default
    if kind in ("selectbox", "radio"):
        if current:
            value = element.raw_value if element.HasField("raw_value") else None
        else:
            has_default = element.HasField("default") and 0 <= element.default < len(element.options)
            value = element.options[element.default] if has_default else None
        return None if value is None else ("string_value", value)
    if kind == "slider":
        if element.type != Slider.SELECT_SLIDER:
            return "double_array_value", list(element.value if current else element.default)
        # a select slider keeps option labels; unknown raw values fall back to the default's
        options, default = list(element.options), [int(i) for i in element.default]  # indices, sent as doubles
        if current and element.raw_value:
            indices = [options.index(v) if v in options else (default[i] if i < len(default) else 0)
                       for i, v in enumerate(element.raw_value)]  # fmt: skip
        else:
            indices = default
        return "string_array_value", [options[i] if 0 <= i < len(options) else "" for i in indices]
    if kind == "number_input":
        field = "int_value" if element.data_type == NumberInput.INT else "double_value"
        value = element.value if current and element.HasField("value") else None
        if value is None and element.HasField("default"):
            value = element.default
        if value is None:
            return None
        return field, int(value) if field == "int_value" else value  # the proto keeps both as double
    if kind == "button_group":
        if current:
            return "string_array_value", list(element.raw_values)
        labels = [_option_label(element.options[i]) for i in element.default if 0 <= i < len(element.options)]
        return "string_array_value", [label for label in labels if label]
    if kind == "multiselect":
        values = element.raw_values if current else [element.options[i] for i in element.default]
        return "string_array_value", list(values)
    if kind in ("text_input", "text_area", "color_picker"):
        source = "value" if current else "default"
        if kind != "color_picker" and not element.HasField(source):
            return None
        return "string_value", getattr(element, source)
    return None


def _set(state: WidgetState, field: str, value: Any) -> None:
    if field.endswith("_array_value"):
        getattr(state, field).data.extend(value)
    else:
        setattr(state, field, value)


@dataclasses.dataclass
class Button:
    label: str
    id: str
    fragment_id: str
    disabled: bool


@dataclasses.dataclass
class _Cached:
    data: bytes
    run: int
    fragment_id: str


class StreamlitClient:
    """One browser tab's session, over the websocket protocol only.

    `url`: the server's base URL; `page`: the URL path of a page ("" for the default
    one); `query_string`: what follows "?" in the tab's address.
    """

    def __init__(self, url: str, page: str = "", query_string: str = ""):
        self.url = url.rstrip("/")
        self.page_name = page.strip("/")
        self.query_string = query_string
        self.page_script_hash = ""
        self.widgets: dict[str, tuple[str, Any]] = {}  # widget id -> (WidgetState field, value)
        self.buttons: dict[str, Button] = {}  # by label, as last drawn
        self.downloads: dict[str, Any] = {}  # download buttons by label, as last drawn
        self.cookies: dict[str, str] = {}  # what the server has set, as a browser keeps it
        self.session_id = ""
        self.exceptions: list[str] = []  # messages of exception elements received
        self.disconnected = False  # the connection ended without close()
        self.close_reason: str | None = None  # then: the close frame's code and reason, as received
        self.client_error: str | None = None  # this client failed to follow the protocol
        self.runs_finished = 0  # full script runs
        self.first_run_done = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._closing = False
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._run_id = ""
        self._widget_seen: dict[str, tuple[str, str]] = {}  # widget id -> (run id, fragment id)
        self._cache: dict[str, _Cached] = {}
        self._cache_runs = 0
        self._max_cached_age = 2
        self._new_session_since_rerun = False
        self._widget_changes = self._cache_changes = 0
        self._memo: dict[str, tuple[tuple, bytes]] = {}  # fragment id -> (what it was built from, message)

    # ---- connection ---------------------------------------------------------------

    async def connect(self) -> None:
        """Connect as the frontend does and request the first run."""
        await asyncio.to_thread(self._ping_server)
        cookie = self.cookies.get(XSRF_COOKIE)
        ws_url = urllib.parse.urlsplit(self.url)._replace(scheme="ws" if self.url.startswith("http:") else "wss")
        headers = self._cookie_header() or None
        self._ws = await connect(
            ws_url.geturl() + STREAM_PATH,
            subprotocols=["streamlit", cookie or PLACEHOLDER_TOKEN],
            origin=self.url,
            additional_headers=headers,
            user_agent_header=None,
            proxy=None,
            open_timeout=120,  # a server busy with a class may take long to accept
            ping_interval=None,  # browsers don't ping; the server pings and we answer
            max_size=None,  # the server's own limit (server.maxMessageSize) applies
            max_queue=None,  # read as fast as it comes, as a browser does
        )
        self._reader = asyncio.create_task(self._read())
        await self.rerun()

    def _ping_server(self) -> None:
        """The frontend's checks before it opens the websocket."""
        self.get("/_stcore/health")
        self.get("/_stcore/host-config")

    def get(self, path: str) -> bytes:
        """An HTTP GET of a path (or URL) on this server, with its cookies, keeping what it sets."""
        request = urllib.request.Request(urllib.parse.urljoin(self.url + "/", path), headers=self._cookie_header())
        with _HTTP.open(request, timeout=60) as reply:
            for header in reply.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return reply.read()

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def close(self) -> None:
        self._closing = True
        self._clear_timers()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def wait_first_run(self, timeout: float) -> None:
        await asyncio.wait_for(self.first_run_done.wait(), timeout)

    # ---- what the frontend sends --------------------------------------------------

    async def rerun(self, fragment_id: str = "", auto: bool = False, triggers: Iterable[str] = ()) -> None:
        """A `rerun_script` with every widget's value, as WidgetStateManager sends it."""
        triggers = tuple(triggers)
        # a timer sends the same message many times a second: build it once per change
        key = (auto, self.query_string, self.page_script_hash, self._widget_changes, self._cache_changes)
        memo = self._memo.get(fragment_id)
        if triggers or memo is None or memo[0] != key:
            data = self._rerun_message(fragment_id, auto, triggers).SerializeToString()
            if not triggers:
                self._memo[fragment_id] = (key, data)
        else:
            data = memo[1]
        self._new_session_since_rerun = False
        await self._send(data)

    def _rerun_message(self, fragment_id: str, auto: bool, triggers: tuple[str, ...]) -> BackMsg:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        for widget_id, (field, value) in self.widgets.items():
            widget = state.widget_states.widgets.add(id=widget_id)
            _set(widget, field, value)
        for widget_id in triggers:
            state.widget_states.widgets.add(id=widget_id, trigger_value=True)
        state.page_script_hash = self.page_script_hash
        if not self.page_script_hash:
            state.page_name = self.page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.cached_message_hashes.extend(self._cache)
        context = state.context_info
        for key, value in CONTEXT.items():
            setattr(context, key, value)
        context.url = f"{self.url}/{self.page_name}"  # the frontend strips the query and the hash
        return msg

    def enabled(self, label: str) -> bool:
        """Whether the page, as last drawn, has an enabled button labelled `label`."""
        button = self.buttons.get(label)
        return button is not None and not button.disabled

    async def press(self, labels: Iterable[str]) -> Button:
        """Click the first enabled button with one of these labels."""
        for label in filter(self.enabled, labels):
            button = self.buttons[label]
            await self.rerun(button.fragment_id, triggers=[button.id])
            return button
        raise LookupError(f"no enabled button labelled {' or '.join(labels)}")

    async def download(self, ask: str, label: str, wait: float = 0.0, timeout: float = 60) -> tuple[str, bytes]:
        """Press the button `ask`, then, `wait` seconds after it appears, the download
        button `label` that its run draws: the file's URL and what it held. A full run
        of the page between the two drops the file (Streamlit keeps a button's file
        until the page's next full run starts, and the buttons go with it): both are
        pressed again, as a student would, as they are if no button came within
        PRESS_AGAIN_SECONDS (the press was lost). `ask` is waited for while off."""
        deadline = time.monotonic() + timeout
        while True:
            while not self.enabled(ask):  # (it is off while a run trains, and on after it has finished)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no enabled button {ask!r} within {timeout} s")
                await asyncio.sleep(0.05)
            self.downloads.pop(label, None)
            await self.press([ask])
            pressed = time.monotonic()
            while label not in self.downloads and time.monotonic() - pressed < PRESS_AGAIN_SECONDS:
                await asyncio.sleep(0.05)
            if label in self.downloads:
                await asyncio.sleep(wait)
                url = self.downloads[label].url
                try:
                    return url, await asyncio.to_thread(self.get, url)
                except urllib.error.HTTPError as error:
                    if error.code != 404:
                        raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"no file from {label!r} within {timeout} s of pressing {ask!r}")

    async def _send(self, data: bytes) -> None:
        if self._ws is None or self._closing:
            return
        try:
            await self._ws.send(data)
        except websockets.ConnectionClosed:
            self._lost()

    # ---- what the frontend receives -----------------------------------------------

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                msg = self._through_cache(ForwardMsg.FromString(data), data)
                if msg is not None:
                    self._handle(msg)
        except websockets.ConnectionClosed:
            pass
        except Exception as error:  # a message this client cannot follow: end the session, visibly
            self.client_error = f"{type(error).__name__}: {error}"
            await self._ws.close()
        finally:
            self._lost()

    def _lost(self) -> None:
        if not self._closing:
            self.disconnected = True
            if self._ws is not None and self.close_reason is None:
                self.close_reason = f"{self._ws.close_code} {self._ws.close_reason}".strip()
            self._clear_timers()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            self._on_delta(msg)
        elif kind == "new_session":
            self._new_session_since_rerun = True
            self._max_cached_age = msg.new_session.config.max_cached_message_age or self._max_cached_age
            self._run_id = msg.metadata.run.script_run_id
            if msg.new_session.HasField("initialize"):
                self.session_id = msg.new_session.initialize.session_id
            if not msg.metadata.run.fragment_ids:  # a full run: App.cleanupAutoReruns
                self._clear_timers()
                self.page_script_hash = msg.new_session.page_script_hash
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "script_finished":
            self._on_script_finished(msg)
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.exceptions.append(msg.session_event.script_compilation_exception.message)

    def _on_delta(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        path = tuple(msg.metadata.delta_path)
        kind = delta.WhichOneof("type")
        if kind == "new_element":
            self._on_new_element(path, delta.new_element, delta.fragment_id)
        elif kind == "new_transient":
            for element in delta.new_transient.elements:
                if element.WhichOneof("type") == "exception":
                    self.exceptions.append(element.exception.message)
        else:
            self.on_element(path, None, kind or "")

    def _on_new_element(self, path: tuple[int, ...], element: Element, fragment_id: str) -> None:
        kind = element.WhichOneof("type") or ""
        body = getattr(element, kind) if kind else None
        if kind == "download_button":
            self.downloads[body.label] = body
        if kind == "exception":
            self.exceptions.append(body.message)
        elif kind == "button":
            self.buttons[body.label] = Button(body.label, body.id, fragment_id, body.disabled)
        elif body is not None and hasattr(body, "id") and body.id:
            value = widget_value(kind, body)
            if value is not None and (getattr(body, "set_value", False) or body.id not in self.widgets):
                if self.widgets.get(body.id) != value:
                    self.widgets[body.id] = value
                    self._widget_changes += 1
            self._widget_seen[body.id] = (self._run_id, fragment_id)
        self.on_element(path, body, kind)

    def on_element(self, path: tuple[int, ...], element: Any, kind: str) -> None:
        """Called for each element (kind: Element's oneof name) or block (element None)."""

    def _on_script_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        run = msg.metadata.run
        fragments = set(run.fragment_ids)
        if status in (_FINISHED.FINISHED_SUCCESSFULLY, _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY) and (
            fragments or run.script_run_id == self._run_id
        ):
            # the frontend drops the values of widgets that this run did not draw
            for widget_id, (run_id, fragment_id) in list(self._widget_seen.items()):
                if run_id != run.script_run_id and (not fragments or fragment_id in fragments):
                    del self._widget_seen[widget_id]
                    if self.widgets.pop(widget_id, None) is not None:
                        self._widget_changes += 1
        if status != _FINISHED.FINISHED_EARLY_FOR_RERUN and run.script_run_id and self._new_session_since_rerun:
            self._age_cache(fragments)
        if not fragments and status != _FINISHED.FINISHED_EARLY_FOR_RERUN:
            self.runs_finished += 1
            self.first_run_done.set()

    # ---- fragment timers (App.handleAutoRerun) -------------------------------------

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or self._closing:
            return
        timer = self._timers.get(fragment_id)
        if timer is not None and timer[0] == interval:
            return
        self._stop_timer(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    async def _tick(self, fragment_id: str, interval: float) -> None:
        # setInterval: a fixed period from when the timer was set; late ticks are not made up
        loop = asyncio.get_running_loop()
        due = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self.rerun(fragment_id, auto=True)
            due = max(due + interval, loop.time())

    def _stop_timer(self, fragment_id: str) -> None:
        timer = self._timers.pop(fragment_id, None)
        if timer is not None:
            timer[1].cancel()

    def _clear_timers(self) -> None:
        for fragment_id in list(self._timers):
            self._stop_timer(fragment_id)

    # ---- the message cache (ForwardMessageCache) ---------------------------------

    def _through_cache(self, msg: ForwardMsg, data: bytes) -> ForwardMsg | None:
        kind = msg.WhichOneof("type")
        if kind != "ref_hash":
            if msg.metadata.cacheable and msg.hash:
                cached = self._cache.get(msg.hash)
                if cached is None:
                    self._cache[msg.hash] = _Cached(data, self._cache_runs, msg.delta.fragment_id)
                    self._cache_changes += 1
                else:
                    cached.run = self._cache_runs
            return msg
        cached = self._cache.get(msg.ref_hash)
        if cached is None:  # the frontend shows an error for this
            self.exceptions.append(f"cached message missing: {msg.ref_hash}")
            return None
        cached.run = self._cache_runs
        full = ForwardMsg.FromString(cached.data)
        full.metadata.CopyFrom(msg.metadata)
        return full

    def _age_cache(self, fragments: set[str]) -> None:
        self._cache_runs += 1
        for key, cached in list(self._cache.items()):
            if fragments and cached.fragment_id not in fragments:
                continue  # a fragment's run ages only that fragment's messages
            if self._cache_runs - cached.run > self._max_cached_age:
                del self._cache[key]
                self._cache_changes += 1
