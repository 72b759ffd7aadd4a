"""The exact reference model: the contracts' integer math in Python (agreement, series, terms)."""
