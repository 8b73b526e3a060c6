"""The web app of ``synesthesia serve`` (needs the ``web`` extra: ``pip install
"synesthesia[web]"``).

``limits`` says what the app accepts, ``service`` runs each tab's pipelines on the models it
loaded once, ``app`` lays out the page with Gradio and serves it. Nothing here imports
Lightning.
"""
