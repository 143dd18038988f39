"""vangrad: watch gradients vanish. Entry point: page config, one torch thread, navigation.

The pages live in views/, not pages/: Streamlit treats a pages/ folder beside the
entry point as an old-style multipage app until st.navigation has run once in the
process, so a link straight to a page, as the first request after a restart,
would skip this file.
"""

import streamlit as st

from views.ui import classroom, session
from views.ui.live import freeze_imported_objects, limit_torch_threads

st.set_page_config(
    page_title="vangrad: watch gradients vanish",
    page_icon="📉",
    layout="wide",
    initial_sidebar_state="collapsed" if session.classroom().presenter else "auto",
)
limit_torch_threads()  # once per process: sessions train side by side, one thread each
freeze_imported_objects()  # once per process: the collector stops walking the modules' objects
classroom.presenter_toggle()
st.navigation(
    [
        st.Page("views/playground.py", title="Playground", icon=":material/science:", default=True),
        st.Page("views/tour.py", title="Lecture tour", icon=":material/school:"),
        st.Page("views/why_sigmoid.py", title="Why sigmoid vanishes", icon=":material/show_chart:"),
        st.Page("views/compare.py", title="Compare two networks", icon=":material/compare:"),
        st.Page("views/through_time.py", title="Through time (RNN, LSTM)", icon=":material/timeline:"),
        st.Page("views/batchnorm.py", title="Batch norm from the inside", icon=":material/tune:"),
        st.Page("views/classics.py", title="Classic experiments", icon=":material/history_edu:"),
    ]
).run()
