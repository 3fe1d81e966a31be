"""Which folders rhbench wrote: the one rule every writer checks before it replaces or deletes.

A folder is rhbench's when it holds the marker file its writer puts there:

- ``.rhbench-output``: a run's output folder (:mod:`rhbench.outdir`); ``--force`` replaces only
  such a folder;
- ``.rhbench-upscale``: ``rhbench upscale``'s output folder; ``--force`` replaces its product
  files only there;
- ``demo.json``: ``rhbench demo``'s folder (``--force`` writes only into one) and the cache's
  demos (:mod:`rhbench.democache` prunes only those, with more checks: no link as the marker,
  version, seed, modification times);
- ``.rhbench-bench``: the dev benchmarks' work folder (``benchmarks/workdir.py``).

:func:`holds_marker` is the test; :func:`foreign_folder` the refusal rule built on it (a
non-empty folder without the marker holds a user's files); :func:`write_marker` writes one.
Nothing here imports xarray: the CLI's light commands use it.
"""

from __future__ import annotations

from pathlib import Path

from rhbench.fileops import respect_umask


def holds_marker(folder: Path, marker: str, *, links: bool = True) -> bool:
    """True when ``folder`` holds the file ``marker`` (a regular file; with ``links=False`` a link to
    one does not count)."""
    path = Path(folder) / marker
    return path.is_file() and (links or not path.is_symlink())


def foreign_folder(folder: Path, marker: str) -> bool:
    """True when ``folder`` is a non-empty folder without ``marker``: it may hold a user's files."""
    folder = Path(folder)
    return folder.is_dir() and any(folder.iterdir()) and not holds_marker(folder, marker)


def write_marker(folder: Path, marker: str, text: str) -> Path:
    """Write ``text`` to ``folder/marker`` with the mode the umask gives (the marker's path)."""
    path = Path(folder) / marker
    path.write_text(text, encoding="utf-8")
    respect_umask(path)
    return path
