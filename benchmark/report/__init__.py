"""Report stage: tables, plots, the static scorecard page, and the CI gate."""
