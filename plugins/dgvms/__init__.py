"""One plugin module per TRENDY DGVM."""
