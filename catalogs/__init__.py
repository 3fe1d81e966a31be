"""The built-in intake catalogs (YAML), installed as package data of ``rhbench.catalogs``."""
