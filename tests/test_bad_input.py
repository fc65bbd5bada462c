"""Bad input, catalogued: each case with the one-line message the user sees.

Config values are checked in-process on the composed config (the same code path as the
CLI, whose output is tested end to end in test_cli.py); CSV files, API arguments and
result directories through the public functions.
"""

import warnings

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

import bpexp
from bpexp import Objective, TwoLayerNet
from bpexp.app import CONF_DIR
from bpexp.config import ConfigError
from bpexp.datasets import DataError, make_dataset
from bpexp.job import run
from bpexp.results import IncompleteJobWarning, ResultsError

SMALL = ["train.networks=2", "train.max_steps=2", "train.progress=false"]


def _compose(overrides, config_dir=CONF_DIR, name="config"):
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return OmegaConf.to_container(compose(name, overrides=[*SMALL, *overrides]),
                                      resolve=True)


# (overrides, substring of the one-line message)
VALUES = [
    (["model.hidden=0"], "model.hidden=0: must be an integer >= 1"),
    (["model.hidden=-3"], "model.hidden=-3"),
    (["optim.lr=0"], "optim.lr=0.0: must be a finite number > 0"),
    (["optim.lr=-0.5"], "optim.lr=-0.5"),
    (["train.networks=0"], "train.networks=0"),
    (["train.max_steps=-1"], "train.max_steps=-1"),
    (["model.activation=gelu"], "model.activation='gelu': choose one of tanh"),
    (["train.loss=hinge"], "train.loss='hinge'"),
    (["data=sine", "train.loss=logistic"], "loss 'logistic' needs binary targets"),
    (["data=circles", "data.noise=-1"], "data.noise"),
    (["data=parity", "data.bits=0"], "data.bits"),
    (["data=teacher", "data.samples=0"], "data.samples"),
    (["data.test_fraction=1.5"], "test_fraction"),
    (["init.scheme=glorot"], "init.scheme='glorot'"),
    (["init.scale=-1"], "init.scale=-1"),
    (["optim=momentum", "optim.beta=1.5"], "optim.beta=1.5"),
    (["optim=adam", "optim.eps=0"], "optim.eps=0"),
    (["optim.schedule=warmup"], "optim.schedule='warmup'"),
    (["train.batch_order=random"], "train.batch_order='random'"),
    (["train.dtype=float16"], "train.dtype='float16'"),
    (["seed=-1"], "seed=-1"),
    (["data.seed=-2"], "data.seed"),
    (["+model._target_=os.system"], "model._target_='os.system': unknown key"),  # no code
    (["+data.path=/etc/passwd"], "data.path='/etc/passwd': unknown key for data 'xor'"),
    (["+extra=1"], "extra=1: unknown key"),
]


@pytest.mark.parametrize("overrides,message", VALUES)
def test_bad_config_value(overrides, message):
    cfg = _compose(overrides)
    with pytest.raises(ConfigError) as err:
        run(cfg)
    assert message in str(err.value) and "\n" not in str(err.value)


COMPOSE = [
    (["model.hiden=3"], "hiden"),
    (["model.hidden=abc"], "model.hidden=abc"),
    (["train.networks=1.5"], "train.networks"),
    (["data=nosuch"], "data/nosuch"),
    (["optim.nesterov=true"], "nesterov"),  # gd has no nesterov key
    (["foo=1"], "foo"),
]


@pytest.mark.parametrize("overrides,first_line", COMPOSE)
def test_unknown_key_or_wrong_type_fails_while_composing(overrides, first_line):
    with pytest.raises((HydraException, OmegaConfBaseException)) as err:
        _compose(overrides)
    assert first_line in str(err.value).splitlines()[0] + str(err.value)


def _user(tmp_path, yaml):
    """Compose a user's primary config that extends bpexp's (``--config-dir`` use)."""
    (tmp_path / "exp.yaml").write_text(yaml)
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        return compose("exp", overrides=[f"hydra.searchpath=[file://{CONF_DIR}]"])


@pytest.mark.parametrize("yaml,needle", [
    ("defaults:\n  - config\n  - _self_\nmodel:\n  hiden: 3\n", "hiden"),
    ("defaults:\n  - config\n  - _self_\ntrain:\n  networks: many\n", "networks"),
])
def test_bad_user_yaml(tmp_path, yaml, needle):
    with pytest.raises((HydraException, OmegaConfBaseException)) as err:
        _user(tmp_path, yaml)
    assert needle in str(err.value)


def test_malformed_user_yaml_is_one_line(tmp_path):
    from bpexp.app import check_yaml

    (tmp_path / "exp.yaml").write_text("defaults:\n  - config\nmodel:\n  hidden: [1, 2\n")
    msg = check_yaml([tmp_path])
    assert msg.startswith(str(tmp_path / "exp.yaml")) and "invalid YAML" in msg
    assert "line 5" in msg and "\n" not in msg
    assert check_yaml([tmp_path / "nothing-here"]) is None


CSV = [
    (None, "no such file"),
    ("", "empty"),
    ("a,b\n", "no data rows"),
    ("a,b\n1,2\n3\n", "line 3"),
    ("a,b\n1,2\n3,nan\n", "NaN"),
    ("a,b\n1,2\n3,x\n", "non-numeric"),
    ("a,c\n1,2\n", "'b'"),
]


@pytest.mark.parametrize("text,needle", CSV)
def test_bad_csv(tmp_path, text, needle):
    path = tmp_path / "data.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataError) as err:
        make_dataset("csv", path=str(path), inputs=["a"], targets=["b"])
    msg = str(err.value)
    assert "data.csv" in msg and needle.lower() in msg.lower() and "\n" not in msg, msg


NET = TwoLayerNet(2, 2)
X, Y = np.zeros((4, 2)), np.zeros((4, 1))
API = [
    (lambda: Objective(NET, X, Y).value(np.zeros((3, 5))), r"shape \(N, 9\)"),
    (lambda: Objective(NET, X, Y).grad(np.array(["a"] * 9)), "floating-point"),
    (lambda: Objective(NET, X, Y).grad(np.zeros(9, complex)), "floating-point"),
    (lambda: Objective(NET, X, np.zeros((5, 1))), "same number of samples"),
    (lambda: Objective(NET, np.zeros((4, 3)), Y), r"X must have shape \(B, 2\)"),
    (lambda: Objective(NET, X, np.zeros((4, 2))), r"targets must have shape \(B, 1\)"),
    (lambda: Objective(NET, np.full((4, 2), np.nan), Y), "NaN"),
    (lambda: Objective(NET, X, np.full((4, 1), 0.5), "logistic"), "binary targets"),
    (lambda: Objective(TwoLayerNet(2, 2, 3), X, np.array([0, 1, 2, 3]), "softmax"),
     "labels must lie in 0..2"),
    (lambda: Objective(NET, X, Y, "hinge"), "unknown loss 'hinge'"),
    (lambda: NET.init(0, 0), "networks must be an integer >= 1"),
    (lambda: NET.predict(np.zeros(9), np.zeros(2)), r"X must have shape \(B, 2\)"),
]


@pytest.mark.parametrize("call,match", API)
def test_bad_api_arguments(call, match):
    with pytest.raises(ValueError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


def test_bad_result_directories(tmp_path):
    with pytest.raises(ResultsError, match="missing: no such directory"):
        bpexp.load_sweep(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="empty: no job directories"):
        bpexp.load_sweep(tmp_path / "empty")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("hello")
    with pytest.raises(ResultsError, match="foreign: no job directories"):
        bpexp.load_sweep(foreign)
    half = tmp_path / "half" / "0"
    (half / ".hydra").mkdir(parents=True)
    (half / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (half / "results.parquet").write_bytes(b"PAR1 partial")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = bpexp.load_sweep(tmp_path / "half")
    assert len(df) == 0
    assert any(issubclass(w.category, IncompleteJobWarning) and "0" in str(w.message)
               for w in caught)
    with pytest.raises(ResultsError):
        bpexp.load_params(half)
