"""Answer-quality evals: datasets -> ``Assistant.add`` + ``Assistant.ask`` -> metrics -> reports -> CI gate.

``cases.py`` loads a dataset, ``runner.py`` runs it through the public API, ``metrics.py`` scores the
outcomes, ``report.py`` writes JSON/Markdown/PNG, ``gate.py`` compares with ``baseline.json``.
``claims.py`` measures the LLM claim checker on the labelled claim set.
Run with ``python -m evals --help`` and ``python -m evals.claims --help``.
"""
