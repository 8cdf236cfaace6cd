"""The Gradio chat UI: ``python -m ui`` serves ``ui.app.build_app(Assistant())`` on 127.0.0.1.

``ui.render`` holds the pure rendering functions (answers, sources, documents), ``ui.app`` the Gradio wiring.
"""
