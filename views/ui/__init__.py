"""What the pages share, one concern a module: `state` (each page's state and its URL
codec, no Streamlit), `session` (that state bound to the session and the address
bar), `classroom` (presenter mode, hidden controls), `form` (a config's widgets,
generated from its field table), `live` (a run trained live: its controls and the
fragment that redraws it), `charts` (showing figures, headline numbers, downloads),
`run_charts` (a run's snapshot turned into the engine's figures), `pairs` (two runs set
up side by side: Compare, Through time), `chart_in_place` (a Plotly chart that reruns
redraw in place)."""
