// A Plotly chart that a rerun redraws in place (Plotly.react on the same div), where
// st.plotly_chart mounts a new chart for every new figure (Streamlit 1.67 names its
// element by a hash of the figure; see docs/performance.md, "One person in a browser").
// Plotly.js and Streamlit's chart theme are loaded once per page from the app's
// static folder (views/ui/chart_in_place.py).

const STATIC = new URL("app/static/", document.baseURI);

function once(name, load) {
  window.__vangrad = window.__vangrad || {};
  window.__vangrad[name] = window.__vangrad[name] || load();
  return window.__vangrad[name];
}

const plotly = () =>
  once("plotly", () => new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = document.createElement("script");
    script.src = new URL("plotly.min.js", STATIC);
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => reject(new Error("plotly.js did not load"));
    document.head.appendChild(script);
  }));

const theme = () =>
  once("theme", () => fetch(new URL("streamlit-plotly-theme.json", STATIC)).then((answer) => answer.json()));

// As st.plotly_chart: the mode bar on hover, no Plotly logo. (The width: a ResizeObserver below.)
const CONFIG = { displaylogo: false };

async function drawNewest(chart) {
  // A figure that came while another was drawn replaces it: only the newest is drawn.
  const [Plotly, template] = await Promise.all([plotly(), theme()]);
  while (chart.pending !== null) {
    const figure = JSON.parse(chart.pending);
    chart.pending = null;
    figure.layout.template = template;
    const title = figure.layout.title;
    if (title?.text) {
      chart.setAttribute("aria-label", title.text.replace(/<[^>]*>/g, ""));
      title.text = `<b>${title.text}</b>`; // as Streamlit's chart theme sets titles
    }
    await Plotly.react(chart, figure.data, figure.layout, CONFIG);
  }
}

export default function ({ data, parentElement }) {
  let chart = parentElement.querySelector(".vangrad-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "vangrad-chart";
    chart.setAttribute("role", "figure");
    chart.style.width = "100%";
    chart.pending = null;
    parentElement.appendChild(chart);
    // Redrawn to the div's new width as the window or the page changes it (the sidebar
    // opened or closed): Plotly's own `responsive` follows the window only.
    let width = 0;
    chart.resizing = new ResizeObserver(([entry]) => {
      const now = Math.round(entry.contentRect.width);
      if (now !== width && width && chart._fullLayout) window.Plotly.Plots.resize(chart);
      width = now;
    });
    chart.resizing.observe(chart);
  }
  const spec = new TextDecoder().decode(data);
  if (spec === chart.spec) return cleanup(chart); // a rerun that sent the same figure again
  chart.spec = spec;
  chart.pending = spec;
  if (!chart.drawing) {
    chart.drawing = drawNewest(chart)
      .catch((error) => {
        chart.textContent = "This chart could not be drawn.";
        console.error(error);
      })
      .finally(() => { chart.drawing = null; });
  }
  return cleanup(chart);
}

const cleanup = (chart) => () => {
  chart.resizing.disconnect();
  window.Plotly?.purge(chart);
};
