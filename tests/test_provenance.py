"""Tests for bpexp.provenance."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import bpexp
from bpexp import provenance

KEYS = {"bpexp_version", "git", "packages", "python", "machine", "command", "start_time"}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def test_keys_and_json():
    prov = provenance.collect(["bpexp", "model.hidden=3"])
    assert set(prov) == KEYS
    assert prov["bpexp_version"] == bpexp.__version__
    assert prov["command"] == ["bpexp", "model.hidden=3"]
    assert set(prov["packages"]) == set(provenance.PACKAGES)
    assert prov["packages"]["numpy"] and prov["packages"]["pandas"]
    assert {"version", "implementation"} <= set(prov["python"])
    assert {"platform", "machine", "processor", "cpu_count", "hostname"} <= set(prov["machine"])
    assert datetime.fromisoformat(prov["start_time"]).utcoffset().total_seconds() == 0
    assert json.loads(json.dumps(prov)) == prov


def test_default_command_is_sys_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["prog", "-m", "x=1"])
    assert provenance.collect()["command"] == ["prog", "-m", "x=1"]


def test_finish_adds_timing():
    prov = provenance.collect([])
    out = provenance.finish(prov)
    assert out is prov and set(prov) == KEYS | {"end_time", "elapsed_seconds"}
    end = datetime.fromisoformat(prov["end_time"])
    assert end >= datetime.fromisoformat(prov["start_time"])
    assert 0 <= prov["elapsed_seconds"] < 60
    json.dumps(prov)


def test_missing_package_is_none():
    versions = provenance.package_versions(("numpy", "surely-not-installed-bpexp-pkg"))
    assert versions["numpy"] and versions["surely-not-installed-bpexp-pkg"] is None


@needs_git
def test_git_info_of_this_checkout():
    here = Path(bpexp.__file__).resolve().parent
    head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode:
        pytest.skip("bpexp is not installed from a git checkout")
    info = provenance.collect([])["git"]
    assert info["commit"] == head.stdout.strip() and len(info["commit"]) == 40
    assert isinstance(info["dirty"], bool)


@needs_git
def test_git_info_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_info(tmp_path) is None
    monkeypatch.setattr(provenance, "PACKAGE_DIR", tmp_path)
    assert provenance.collect([])["git"] is None


@needs_git
def test_git_dirty_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}.items():
        monkeypatch.setenv(key, value)
    git = ["git", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "a.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a", "--no-gpg-sign"], check=True)
    info = provenance.git_info(tmp_path)
    assert info is not None and info["dirty"] is False
    (tmp_path / "a.py").write_text("x = 2\n")
    assert provenance.git_info(tmp_path)["dirty"] is True


def test_git_missing(monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert provenance.git_info() is None
