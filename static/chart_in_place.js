// A Plotly chart that a rerun redraws in place (Plotly.react on the same div), where
// st.plotly_chart mounts a new chart for every new figure (Streamlit 1.67 names its
// element by a hash of the figure; docs/architecture.md, "Charts redrawn in place").
// The custom component of views/ui/chart_in_place.py imports this module (once a page)
// and calls its default export at each render. Plotly.js and Streamlit's chart theme
// come from the same static folder, once a page.

const STATIC = new URL("./", import.meta.url);
const VERSION = new URL(import.meta.url).search; // (the loader's: a new one after an upgrade)
const staticFile = (name) => new URL(name + VERSION, STATIC);

// What a page loads once, for all its charts; a load that failed is tried again by the next chart.
const loaded = {};
function once(name, load) {
  loaded[name] ??= load().catch((error) => {
    delete loaded[name];
    throw error;
  });
  return loaded[name];
}

const plotly = () =>
  once("plotly", () => new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = document.createElement("script");
    script.src = staticFile("plotly-cartesian.min.js");
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      script.remove();
      reject(new Error("plotly.js did not load"));
    };
    document.head.appendChild(script);
  }));

const theme = () =>
  once("theme", async () => {
    const answer = await fetch(staticFile("streamlit-plotly-theme.json"));
    if (!answer.ok) throw new Error(`the chart theme did not load (${answer.status})`);
    return answer.json();
  });

// A chart on the whole screen (as st.plotly_chart's toolbar offers): at the screen's
// height while it is there, redrawn at the figure's own when it is back. Where the page
// may not take the screen (an app in a frame without allow="fullscreen": a course's page,
// a host's wrapper; or the browser refused), the chart covers the whole window instead,
// until the button or Esc.
const FULL_SCREEN = {
  name: "Full screen",
  icon: { width: 24, height: 24, path: "M3 3h7v2H5v5H3zm11 0h7v7h-2V5h-5zM3 14h2v5h5v2H3zm16 0h2v7h-7v-2h5z" },
  click: (chart) => {
    if (document.fullscreenElement) return document.exitFullscreen();
    if (chart.covering) return uncover(chart);
    holdPlace(chart);
    if (!document.fullscreenEnabled) return cover(chart);
    return chart.requestFullscreen().catch(() => cover(chart));
  },
};

// On the whole screen or window, a chart leaves the page's flow: an empty div of its
// height keeps its place, so that the page does not get shorter and scroll under it.
function holdPlace(chart) {
  if (chart.place) return;
  chart.place = document.createElement("div");
  chart.place.style.height = `${chart.offsetHeight}px`;
  chart.before(chart.place);
}

function freePlace(chart) {
  chart.place?.remove();
  chart.place = null;
}

// The covering chart is put in the browser's top layer (a popover), as the full screen
// is: above Streamlit's header, and not faded with its container while a rerun runs (a
// stale element is drawn at a third of its opacity).
function cover(chart) {
  if (chart.covering) return;
  holdPlace(chart);
  chart.covering = { style: chart.style.cssText, escape: (event) => event.key === "Escape" && uncover(chart) };
  Object.assign(chart.style, {
    position: "fixed", inset: "0", margin: "0", border: "0", padding: "0", width: "100%", height: "100%",
    overflow: "visible", zIndex: "1000010", background: getComputedStyle(document.body).backgroundColor,
  });
  if (chart.showPopover) {
    chart.popover = "manual"; // (Esc is ours: a manual popover is closed by no one else)
    chart.showPopover();
  }
  document.addEventListener("keydown", chart.covering.escape);
  return window.Plotly.relayout(chart, screenSize());
}

function letGoOfCover(chart) {
  document.removeEventListener("keydown", chart.covering.escape);
  freePlace(chart);
  if (chart.popover) {
    if (chart.matches(":popover-open")) chart.hidePopover();
    chart.removeAttribute("popover"); // (a popover that is not open is not displayed at all)
  }
  chart.style.cssText = chart.covering.style;
  chart.covering = null;
}

function uncover(chart) {
  letGoOfCover(chart);
  return backOnThePage(chart);
}

async function backOnThePage(chart) {
  await window.Plotly.relayout(chart, { width: null, height: chart.height });
  return window.Plotly.Plots.resize(chart); // (the page's width again)
}

// As st.plotly_chart: the mode bar on hover, no Plotly logo, no "Share chart" (to Plotly
// Cloud). (The width: a ResizeObserver below.)
const CONFIG = { displaylogo: false, showSendToCloud: false, modeBarButtonsToAdd: [FULL_SCREEN] };

const onFullScreen = (chart) => document.fullscreenElement === chart || Boolean(chart.covering);
// (set, not measured: Plotly takes a chart on the full screen, position: fixed, for hidden)
const screenSize = () => ({ width: window.innerWidth, height: window.innerHeight });

// A draw that failed (plotly.js or the theme not loaded, a figure Plotly refused) is
// tried again after RETRY_MS, then twice as long each time, up to a minute: a page
// whose figures do not change (a teaching page) gets no new figure to try.
const RETRY_MS = 1000;

function draw(Plotly, template, chart) {
  const figure = JSON.parse(chart.pending);
  chart.pending = null;
  chart.height = figure.layout.height ?? null;
  if (onFullScreen(chart)) Object.assign(figure.layout, screenSize());
  figure.layout.template = template;
  const title = figure.layout.title?.text;
  if (title) {
    chart.setAttribute("aria-label", title.replace(/<[^>]*>/g, ""));
    figure.layout.title.text = `<b>${title}</b>`; // as Streamlit's chart theme sets titles
  } else {
    chart.removeAttribute("aria-label");
  }
  return Plotly.react(chart, figure.data, figure.layout, CONFIG);
}

async function drawNewest(chart) {
  // Only the newest figure is drawn: one that came while another was drawn replaces it.
  while (chart.pending !== null && !chart.gone) {
    try {
      const [Plotly, template] = await Promise.all([plotly(), theme()]);
      if (chart.gone) break; // (off the page while plotly.js loaded)
      await draw(Plotly, template, chart);
      chart.style.minHeight = ""; // (drawn: its height is the figure's)
      chart.failed.hidden = true;
      chart.retryMs = RETRY_MS;
    } catch (error) {
      console.error(error);
      chart.failed.hidden = false;
      chart.pending = null; // (the newest figure, `spec`, is the one tried again)
      setTimeout(() => render(chart, chart.spec, true), chart.retryMs);
      chart.retryMs = Math.min(2 * chart.retryMs, 60_000);
    }
  }
  chart.drawing = false; // (in the same turn as the loop's last look at `pending`)
}

function render(chart, spec, again = false) {
  if (chart.gone || (spec === chart.spec && !again)) return; // (a rerun sends every chart again, most unchanged)
  if (!chart._fullLayout && !chart.style.minHeight) {
    // its figure's height kept until it is first drawn (plotly.js is 0.5 MB), so that the
    // page does not grow under the reader (a spec that does not parse fails in `draw`)
    try {
      const height = JSON.parse(spec).layout?.height;
      if (height) chart.style.minHeight = `${height}px`;
    } catch {}
  }
  chart.spec = chart.pending = spec;
  if (!chart.drawing) {
    chart.drawing = true;
    drawNewest(chart);
  }
}

function newChart(parentElement) {
  const chart = document.createElement("div");
  chart.className = "vangrad-chart";
  chart.setAttribute("role", "figure");
  chart.style.width = "100%";
  chart.pending = null;
  chart.retryMs = RETRY_MS;
  chart.failed = document.createElement("p");
  chart.failed.textContent = "This chart could not be drawn.";
  chart.failed.hidden = true;
  parentElement.append(chart.failed, chart);
  // Redrawn to the div's new width as the window or the page changes it (the sidebar
  // opened or closed): Plotly's own `responsive` follows the window only. On the whole
  // screen or window, to the window's size.
  let size = null;
  chart.resizing = new ResizeObserver(([entry]) => {
    const whole = onFullScreen(chart);
    const now = [entry.contentRect.width, whole ? entry.contentRect.height : 0].map(Math.round).join();
    if (size !== null && now !== size && entry.contentRect.width > 0 && chart._fullLayout) {
      const resized = whole ? window.Plotly.relayout(chart, screenSize()) : window.Plotly.Plots.resize(chart);
      resized.catch(() => {}); // (a chart hidden meanwhile)
    }
    size = now;
  });
  chart.resizing.observe(chart);
  chart.addEventListener("fullscreenchange", () => {
    if (onFullScreen(chart)) return window.Plotly.relayout(chart, screenSize());
    freePlace(chart);
    return backOnThePage(chart);
  });
  return chart;
}

export default function ({ data, parentElement }) {
  let chart = parentElement.querySelector(".vangrad-chart");
  if (chart?.gone) { // (let go while out of the page, and back in it)
    chart.failed.remove();
    chart.remove();
    chart = null;
  }
  chart ??= newChart(parentElement);
  render(chart, new TextDecoder().decode(data));
  // Streamlit 1.67 calls a render's cleanup as soon as newer data comes while that render
  // is still being loaded, not only when the chart leaves the page: the chart is let go
  // only once it is out of the page.
  return () =>
    setTimeout(() => {
      if (chart.isConnected) return;
      chart.gone = true;
      chart.resizing.disconnect();
      if (chart.covering) letGoOfCover(chart);
      freePlace(chart);
      window.Plotly?.purge(chart);
    });
}
