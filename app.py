"""vangrad: watch gradients vanish. Entry point: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="vangrad: watch gradients vanish", page_icon="📉", layout="wide")
st.navigation([st.Page("pages/playground.py", title="Playground", icon="🧪", default=True)]).run()
