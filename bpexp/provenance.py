"""Provenance of a job: code version, package versions, machine, command and timing.

:func:`collect` is called when a job starts and :func:`finish` when it ends; the result
is plain JSON-serialisable data, written to ``provenance.json`` by
:func:`bpexp.results.write_job`.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__

PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "numba",
            "threadpoolctl", "tqdm")
GIT_TIMEOUT = 5.0  # seconds per git command
PACKAGE_DIR = Path(__file__).resolve().parent


def _git(directory: Path, *args: str) -> str | None:
    """Output of ``git -C directory args``, or ``None`` if git fails or is missing."""
    try:
        out = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                             text=True, timeout=GIT_TIMEOUT, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def git_info(directory: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """Commit and dirtiness of the git work tree holding ``directory``.

    Parameters
    ----------
    directory : path, optional
        Defaults to the directory of the installed ``bpexp`` package.

    Returns
    -------
    dict or None
        ``{"commit": sha, "dirty": bool}``, or ``None`` when ``directory`` is not inside a
        git work tree or git is not available.
    """
    directory = Path(directory) if directory is not None else PACKAGE_DIR
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None or not commit.strip():
        return None
    status = _git(directory, "status", "--porcelain")
    return {"commit": commit.strip(), "dirty": bool(status.strip()) if status is not None
            else None}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (``None`` when missing)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _now() -> datetime:
    return datetime.now(UTC)


def collect(argv: list[str] | None = None) -> dict[str, Any]:
    """Provenance at the start of a job.

    Parameters
    ----------
    argv : list of str, optional
        The command line; defaults to ``sys.argv``.

    Returns
    -------
    dict
        ``bpexp_version``, ``git``, ``packages``, ``python``, ``machine``, ``command`` and
        ``start_time`` (ISO-8601, UTC); JSON-serialisable.
    """
    return {
        "bpexp_version": __version__,
        "git": git_info(),
        "packages": package_versions(),
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "machine": {"platform": platform.platform(), "machine": platform.machine(),
                    "processor": platform.processor(), "cpu_count": os.cpu_count(),
                    "hostname": socket.gethostname()},
        "command": [str(a) for a in (sys.argv if argv is None else argv)],
        "start_time": _now().isoformat(),
    }


def finish(prov: dict[str, Any]) -> dict[str, Any]:
    """Add ``end_time`` (ISO-8601, UTC) and ``elapsed_seconds`` to ``prov`` (in place).

    Returns
    -------
    dict
        ``prov`` itself, for chaining.
    """
    end = _now()
    prov["end_time"] = end.isoformat()
    try:
        start = datetime.fromisoformat(prov["start_time"])
        prov["elapsed_seconds"] = (end - start).total_seconds()
    except (KeyError, TypeError, ValueError):
        prov["elapsed_seconds"] = None
    return prov
