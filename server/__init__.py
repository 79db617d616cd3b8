"""What the deployed server adds around the Streamlit app (see ``serve.py``); no page logic."""
