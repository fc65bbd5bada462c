"""Hydra launchers: one sweep gives the same results whatever runs its jobs.

The same small multirun under Hydra's basic launcher (in process, one job after the other),
joblib (a pool of worker processes), submitit's local executor (one process per job) and,
where it is installed, Ray, read back with ``bpexp.load_sweep``: identical tables row for
row, value for value, ``job`` column included (only ``wall_time`` differs). And the
launcher configs of ``conf/hydra/launcher/`` compose cleanly on top of the plugins' own.
"""

import os
import subprocess
import sys
from unittest import mock

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

import bpexp
from bpexp.app import CONF_DIR

SWEEP = ["model.hidden=1,2,3", "seed=0,1", "train.networks=20", "train.max_steps=100",
         "train.progress=false", "train.threads=1"]
JOBS = [str(j) for j in range(6)]
DEPRECATIONS = "HYDRA_DEPRECATION_WARNINGS_AS_ERRORS"


def sweep(cwd, *launcher, env=None, expect="") -> pd.DataFrame:
    """Run SWEEP as a ``bpexp -m`` subprocess with the ``launcher`` overrides (its log must
    contain ``expect``); its table sorted by job and network, without ``wall_time``."""
    p = subprocess.run([sys.executable, "-m", "bpexp", "-m", *SWEEP, *launcher,
                        "hydra.sweep.dir=sweep"], cwd=cwd, capture_output=True, text=True,
                       timeout=300, env={**os.environ, DEPRECATIONS: "1", **(env or {})})
    assert p.returncode == 0, f"bpexp failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert expect in p.stdout + p.stderr, p.stdout + p.stderr
    df = bpexp.load_sweep(cwd / "sweep").drop(columns=["wall_time"])
    return df.sort_values(["job", "network"], key=_natural).reset_index(drop=True)


def _natural(col: pd.Series) -> pd.Series:
    return col.astype(int) if col.name == "job" else col


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    df = sweep(tmp_path_factory.mktemp("basic"), "hydra/launcher=basic")
    assert len(df) == 6 * 20 and sorted(df["job"].unique(), key=int) == JOBS
    return df


@pytest.mark.parametrize("plugin,overrides,expect", [
    ("hydra_joblib_launcher", ["hydra/launcher=bpexp_joblib", "hydra.launcher.n_jobs=2"],
     "Joblib.Parallel(n_jobs=2,backend=loky"),
    ("hydra_submitit_launcher", ["hydra/launcher=bpexp_submitit_local"], "Submitit 'local'"),
], ids=["joblib", "submitit_local"])
def test_same_results_as_the_basic_launcher(tmp_path, basic, plugin, overrides, expect):
    pytest.importorskip(f"hydra_plugins.{plugin}")
    pd.testing.assert_frame_equal(sweep(tmp_path, *overrides, expect=expect), basic)


def test_same_results_on_ray(tmp_path, basic):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    pytest.importorskip("ray")
    env = {"RAY_USAGE_STATS_ENABLED": "0"}  # no network from the test
    df = sweep(tmp_path, "hydra/launcher=bpexp_ray", env=env, expect="Ray Launcher is launching")
    pd.testing.assert_frame_equal(df, basic)


PLUGINS = {  # hydra/launcher option: (plugin package, launcher class)
    "joblib": ("hydra_joblib_launcher", "joblib_launcher.JoblibLauncher"),
    "submitit_local": ("hydra_submitit_launcher", "submitit_launcher.LocalLauncher"),
    "submitit_slurm": ("hydra_submitit_launcher", "submitit_launcher.SlurmLauncher"),
    "ray": ("hydra_ray_launcher", "ray_launcher.RayLauncher"),
}
OURS = {  # bpexp's option: (the plugin option it extends, values it sets)
    "bpexp_joblib": ("joblib", {"n_jobs": -1}),
    "bpexp_submitit_local": ("submitit_local", {"timeout_min": 1440}),
    "bpexp_submitit_slurm": ("submitit_slurm", {
        "partition": None, "name": "bpexp", "nodes": 1, "tasks_per_node": 1,
        "cpus_per_task": 4, "mem_gb": 4, "timeout_min": 120, "array_parallelism": 64,
        "max_num_timeout": 0}),
    "bpexp_ray": ("ray", {"ray": {"init": {"address": None, "object_store_memory": None},
                                  "remote": {"num_cpus": 1}}}),
}


def launcher_config(option: str, *overrides: str):
    """``hydra.launcher`` as ``bpexp hydra/launcher=OPTION OVERRIDES`` composes it (in process),
    with Hydra's deprecations as errors (same-name automatic schema matching is one)."""
    with (mock.patch.dict(os.environ, {DEPRECATIONS: "1"}),
          initialize_config_dir(config_dir=CONF_DIR, version_base="1.3")):
        cfg = compose("config", overrides=[f"hydra/launcher={option}", *overrides],
                      return_hydra_config=True)
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=False)


def _subset(small, big) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _subset(v, big[k])
                                             for k, v in small.items())
    return small == big


@pytest.mark.parametrize("option", [*PLUGINS, *OURS])
def test_launcher_options_compose_cleanly(option):
    """The plugins' own options stay theirs (no file of ours shadows them); ours extend them:
    the plugin's launcher class, keys and types, plus our values."""
    base, values = OURS.get(option, (option, {}))
    plugin, cls = PLUGINS[base]
    pytest.importorskip(f"hydra_plugins.{plugin}")
    cfg = launcher_config(option)
    assert cfg["_target_"] == f"hydra_plugins.{plugin}.{cls}"
    assert set(launcher_config(base)) == set(cfg)
    assert _subset(values, cfg), cfg


def test_our_slurm_config_is_type_checked_by_the_plugin_schema():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cfg = launcher_config("bpexp_submitit_slurm", "hydra.launcher.cpus_per_task=8",
                          "hydra.launcher.partition=cpu")
    assert (cfg["cpus_per_task"], cfg["partition"]) == (8, "cpu")
    for bad in ("hydra.launcher.cpus_per_task=many", "hydra.launcher.cpus_per_tsak=8"):
        with pytest.raises(ConfigCompositionException):
            launcher_config("bpexp_submitit_slurm", bad)
