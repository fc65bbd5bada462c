"""Job directories: writing one job's results atomically and loading sweeps of them.

Layout of a job directory (the contract)::

    .hydra/config.yaml ...  written by Hydra
    results.parquet         one row per network: flattened config + per-network outcomes
    curves.parquet          long format: network, step, loss, grad_norm, test_loss
    params.npz              theta0, theta (N, P), network (N,), net (JSON of TwoLayerNet args)
    provenance.json
    done.json               completion marker, written last, with the sha256 of each file

A sweep directory holds job directories at any depth (found by ``.hydra/config.yaml`` or
``done.json``). Loaders skip jobs that are not complete, or whose files are missing,
corrupt (sha256 mismatch) or unreadable, with one :class:`IncompleteJobWarning`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple
from zipfile import BadZipFile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .model import TwoLayerNet
from .train import STATUSES, TrainResult

Array = np.ndarray
FILES = ("results.parquet", "curves.parquet", "params.npz", "provenance.json")
DONE = "done.json"
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES), ordered=False)
RESULT_TYPES = {
    "network": pa.int64(), "final_loss": pa.float64(), "grad_norm": pa.float64(),
    "param_norm": pa.float64(), "steps": pa.int64(), "status": pa.int8(),
    "solved": pa.bool_(), "wall_time": pa.float64(), "test_loss": pa.float64(),
    "init_loss": pa.float64(),
}
CURVE_TYPES = {"network": pa.int64(), "step": pa.int64(), "loss": pa.float64(),
               "grad_norm": pa.float64(), "test_loss": pa.float64()}
RESERVED = {*RESULT_TYPES, *CURVE_TYPES, "job"}


class ResultsError(ValueError):
    """A results path or job directory that cannot be used (one-line message)."""


class IncompleteJobWarning(UserWarning):
    """Some jobs of a sweep were skipped because they are not complete or are corrupt."""


class Params(NamedTuple):
    """Parameters of one job: the architecture and ``(N, P)`` initial and final ``theta``."""

    net: TwoLayerNet
    theta0: Array
    theta: Array
    network: Array


# ------------------------------------------------------------------------ config
def _resolved(cfg: Any) -> dict:
    """``cfg`` as plain JSON data; an OmegaConf config is resolved first."""
    if not isinstance(cfg, dict):
        from omegaconf import OmegaConf

        cfg = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    if not isinstance(cfg, dict):
        raise ResultsError(f"config must be a mapping, got {type(cfg).__name__}")
    return json.loads(json.dumps(cfg, default=lambda v: getattr(v, "tolist", v.__str__)()))


def flatten_config(cfg: Mapping) -> dict[str, Any]:
    """Flatten a (resolved) config to ``{"model.hidden": 8, "seed": 0, ...}``.

    Parameters
    ----------
    cfg : Mapping or omegaconf.DictConfig
        Nested dicts become dotted keys; lists become their JSON string; other values are
        kept as ``bool``, ``int``, ``float``, ``str`` or ``None``.
    """
    flat: dict[str, Any] = {}

    def walk(node: Mapping, prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, name + ".")
                continue
            if name in flat:
                raise ResultsError(f"config key {name!r} occurs twice once flattened")
            flat[name] = json.dumps(value, sort_keys=True) if isinstance(value, list) else value

    walk(_resolved(cfg), "")
    return flat


#: keys that cannot change any number a job records (how it runs, not what it computes)
NEUTRAL_KEYS = (("train", "threads"), ("train", "progress"))


def config_hash(cfg: Any) -> str:
    """sha256 hex digest of the resolved config as canonical JSON (sorted keys, compact),
    leaving out :data:`NEUTRAL_KEYS`: a job's identity for resuming a sweep."""
    plain = _resolved(cfg)
    for group, key in NEUTRAL_KEYS:
        if isinstance(plain.get(group), dict):
            plain[group] = {k: v for k, v in plain[group].items() if k != key}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fraction_solved(job_dir: str | os.PathLike) -> float:
    """Mean of the ``solved`` column of a complete job (what the job returned)."""
    table = pq.read_table(Path(job_dir) / "results.parquet", columns=["solved"])
    return float(pc.mean(table["solved"].cast(pa.float64())).as_py())


def completed_hash(job_dir: str | os.PathLike) -> str | None:
    """The ``config_hash`` of a complete job in ``job_dir``, or ``None``."""
    try:
        return str(_read_done(Path(job_dir)).get("config_hash"))
    except _Skip:
        return None


# ----------------------------------------------------------------------- writing
def _atomic_write(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically (temp file, fsync, replace); return its sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename durable too (POSIX only)
        dfd = os.open(path.parent, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
    return hashlib.sha256(data).hexdigest()


def write_json_atomic(path: str | os.PathLike, data: Any) -> str:
    """Write ``data`` as indented JSON to ``path`` atomically; return the file's sha256."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    return _atomic_write(Path(path), text.encode())


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _vector(name: str, value: Any, n: int, dtype: type) -> Array:
    """``value`` as an ``(n,)`` array of ``dtype`` (all NaN for ``None``)."""
    arr = np.full(n, np.nan) if value is None else np.asarray(value, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr


def _curves(r: TrainResult, n: int) -> dict[str, Array]:
    """Long-format curves: the record steps before each stop, then one final row."""
    rec = np.asarray(r.curve_step, dtype=np.int64)
    nan = np.full((n, rec.size), np.nan)
    loss, gn = np.asarray(r.curve_loss, float), np.asarray(r.curve_grad_norm, float)
    test = nan if r.curve_test_loss is None else np.asarray(r.curve_test_loss, float)
    for name, a in (("curve_loss", loss), ("curve_grad_norm", gn), ("curve_test_loss", test)):
        if a.shape != (n, rec.size):
            raise ValueError(f"{name} must have shape ({n}, {rec.size}), got {a.shape}")
    steps = np.asarray(r.steps, np.int64)
    keep = (rec[None, :] < steps[:, None]) & ~np.isnan(loss)  # recorded before stopping
    ends = np.cumsum(keep.sum(axis=1) + 1)
    final = np.zeros(ends[-1] if n else 0, bool)
    final[ends - 1] = True
    rows, cols = np.nonzero(keep)
    out = {}
    for key, curve, last in (("step", np.broadcast_to(rec, keep.shape), steps),
                             ("loss", loss, r.loss), ("grad_norm", gn, r.grad_norm),
                             ("test_loss", test, r.test_loss)):
        col = np.empty(final.size, np.int64 if key == "step" else np.float64)
        col[~final], col[final] = curve[rows, cols], _vector(key, last, n, col.dtype)
        out[key] = col
    out["network"] = np.repeat(np.arange(n), np.diff(ends, prepend=0))
    return out


def part_tables(flat: Mapping[str, Any], result: TrainResult, solved: Array, theta0: Array,
                init_loss: Array, net: TwoLayerNet, first_network: int = 0
                ) -> tuple[pa.Table, pa.Table]:
    """The ``results`` and ``curves`` tables of one trained part of a job.

    ``flat`` is the flattened config (see :func:`flatten_config`); network ``k`` of
    ``result`` gets the global index ``first_network + k``.
    """
    clash = sorted(RESERVED.intersection(flat))
    if clash:
        raise ResultsError(f"config keys {clash} clash with results columns")
    n, P = np.shape(result.theta)
    status = _vector("status", result.status, n, np.int8)
    if np.any((status < 0) | (status >= len(STATUSES))):
        raise ValueError("status must index STATUSES (no running networks)")
    if np.shape(theta0) != (n, P) or P != net.num_params:
        raise ValueError(f"theta0 must have shape ({n}, {net.num_params}), "
                         f"got {np.shape(theta0)}")
    network = first_network + np.arange(n, dtype=np.int64)
    columns = {k: pa.nulls(n) if v is None else pa.repeat(v, n) for k, v in flat.items()}
    values = {"network": network, "final_loss": result.loss, "grad_norm": result.grad_norm,
              "param_norm": result.param_norm, "steps": result.steps, "status": status,
              "solved": solved, "wall_time": result.wall_time,
              "test_loss": result.test_loss, "init_loss": init_loss}
    for key, typ in RESULT_TYPES.items():
        columns[key] = pa.array(_vector(key, values[key], n, typ.to_pandas_dtype()), typ)
    columns["status"] = pa.DictionaryArray.from_arrays(columns["status"], pa.array(STATUSES))
    curves = _curves(result, n)
    curves["network"] = network[curves["network"]]
    return pa.table(columns), pa.table({k: curves[k] for k in CURVE_TYPES})


def net_json(net: TwoLayerNet) -> str:
    """The architecture as JSON: the constructor arguments of ``net``."""
    return json.dumps({f.name: getattr(net, f.name) for f in dataclasses.fields(net) if f.init})


def write_job(job_dir: str | os.PathLike, cfg: Any, result: TrainResult, solved: Array,
              theta0: Array, init_loss: Array, net: TwoLayerNet, provenance: dict,
              first_network: int = 0) -> None:
    """Write the results of a one-part job to ``job_dir`` (see :class:`JobWriter`)."""
    from .jobwriter import JobWriter

    with JobWriter(job_dir, cfg, net) as w:
        w.append(result, solved, theta0, init_loss, first_network)
        w.commit(provenance)


# ----------------------------------------------------------------------- reading
class _Skip(Exception):
    """Why a job cannot be read (becomes part of the warning or error message)."""


def _read_done(job: Path) -> dict:
    """The ``done.json`` of a complete job whose listed files all exist; ``_Skip`` else."""
    try:
        done = json.loads((job / DONE).read_bytes())
    except FileNotFoundError:
        raise _Skip("no done.json") from None
    except (OSError, ValueError):
        raise _Skip("unreadable done.json") from None
    if not (isinstance(done, dict) and done.get("complete") is True
            and isinstance(done.get("files"), dict) and set(FILES) <= set(done["files"])):
        raise _Skip("done.json does not mark it complete")
    for name in done["files"]:
        if not (job / str(name)).is_file():
            raise _Skip(f"{name} missing")
    return done


def is_complete(job_dir: str | os.PathLike) -> bool:
    """Whether ``job_dir`` has a valid ``done.json`` and every file it lists exists."""
    try:
        return bool(_read_done(Path(job_dir)))
    except _Skip:
        return False


def _read_file(job: Path, done: dict, name: str) -> bytes:
    try:
        data = (job / name).read_bytes()
    except FileNotFoundError:
        raise _Skip(f"{name} missing") from None
    except OSError:
        raise _Skip(f"{name} unreadable") from None
    if hashlib.sha256(data).hexdigest() != done["files"][name]:
        raise _Skip(f"{name} corrupt (sha256 mismatch)")
    return data


def _read_table(job: Path, done: dict, name: str) -> pa.Table:
    """The table ``name`` of a job: other (config) columns first, then the fixed ones, cast."""
    types = RESULT_TYPES if name == "results.parquet" else CURVE_TYPES
    data = _read_file(job, done, name)
    try:
        table = pq.read_table(pa.BufferReader(data))
        fixed = {}
        for key, typ in types.items():
            col = table[key]
            if key == "status":
                col = pc.index_in(col.cast(pa.string()), value_set=pa.array(STATUSES))
                if col.null_count:
                    raise ValueError("unknown status")
            fixed[key] = col.cast(typ)
    except (pa.ArrowException, OSError, KeyError, ValueError, TypeError):
        raise _Skip(f"{name} unreadable") from None
    if name == "curves.parquet":
        return pa.table(fixed)
    if table.num_rows != done.get("networks"):
        raise _Skip(f"{name} has {table.num_rows} rows, done.json says {done.get('networks')}")
    other = [k for k in table.column_names if k not in types]
    return pa.table({**{k: table[k] for k in other}, **fixed})


def _natural_key(rel: Path) -> list[list[Any]]:
    """Sort key that orders digit runs by value: ``2`` before ``10``."""
    return [[int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p)] for p in rel.parts]


def find_jobs(path: str | os.PathLike) -> list[Path]:
    """Job directories under a sweep directory (any depth), or ``[path]`` for a single job.

    A job directory contains ``.hydra/config.yaml`` or ``done.json``. Sorted naturally
    (``2`` before ``10``). ``ResultsError`` if ``path`` is not an existing directory.
    """
    root = Path(path)
    if not root.exists():
        raise ResultsError(f"{root}: no such directory")
    if not root.is_dir():
        raise ResultsError(f"{root}: not a directory")
    jobs = []
    for dirpath, dirnames, filenames in os.walk(root):
        if DONE in filenames or os.path.isfile(os.path.join(dirpath, ".hydra", "config.yaml")):
            jobs.append(Path(dirpath))
            dirnames.clear()
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    return sorted(jobs, key=lambda j: _natural_key(j.relative_to(root)))


def _collect(path: str | os.PathLike, names: list[str]) -> list[tuple[str, list]]:
    """``(job, tables)`` of every readable job under ``path``; warn once about the rest."""
    root = Path(path)
    jobs = find_jobs(root)
    if not jobs:
        raise ResultsError(f"{root}: no job directories (nothing with .hydra/config.yaml)")

    def read(job: Path) -> tuple[str, list[pa.Table] | str]:
        rel = job.relative_to(root).as_posix()
        try:
            done = _read_done(job)
            return rel, [_read_table(job, done, name) for name in names]
        except _Skip as why:
            return rel, f"{rel} ({why})"

    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        out = list(pool.map(read, jobs))
    good = [(rel, t) for rel, t in out if not isinstance(t, str)]
    skipped = [t for _, t in out if isinstance(t, str)]
    if skipped:
        warnings.warn(f"{root}: skipped {len(skipped)} incomplete job(s): {', '.join(skipped)}",
                      IncompleteJobWarning, stacklevel=3)
    return good


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables, unioning their columns (missing -> null) and unifying types:
    integers and floats -> float64, any other mix -> string."""
    types: dict[str, set] = {}
    for t in tables:
        for f in t.schema:
            types.setdefault(f.name, set()).add(f.type)
    fields = []
    for name, ts in types.items():
        ts = {t for t in ts if not pa.types.is_null(t)} or {pa.null()}
        numeric = all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in ts)
        fields.append((name, ts.pop() if len(ts) == 1 else pa.float64() if numeric
                       else pa.string()))
    schema = pa.schema(fields)
    return pa.concat_tables([
        pa.Table.from_arrays([t[f.name].cast(f.type) if f.name in t.column_names
                              else pa.nulls(t.num_rows, f.type) for f in schema], schema=schema)
        for t in tables] or [schema.empty_table()])


def _frame(columns: dict[str, Any], counts: list[int], jobs: list[str]) -> pd.DataFrame:
    """DataFrame of arrow ``columns`` plus ``job`` (``jobs[i]`` over ``counts[i]`` rows);
    integer and bool columns with missing values become nullable ``Int64``/``boolean``."""
    idx = pa.array(np.repeat(np.arange(len(jobs), dtype=np.int32), counts))
    job = pa.DictionaryArray.from_arrays(idx, pa.array(jobs, pa.string()))
    table = pa.table({**columns, "job": job.cast(pa.string())})
    df = table.to_pandas()
    for name in table.column_names:
        col = table[name]
        if col.null_count and (pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)):
            nullable = pd.BooleanDtype() if pa.types.is_boolean(col.type) else pd.Int64Dtype()
            df[name] = col.to_pandas(types_mapper=lambda _, d=nullable: d)
    if "status" in df:
        df["status"] = pd.Categorical.from_codes(df["status"].to_numpy(), dtype=STATUS_DTYPE)
    return df


def _config(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    """The config columns of a results table."""
    return {k: table[k] for k in table.column_names if k not in RESULT_TYPES}


def load_sweep(path: str | os.PathLike) -> pd.DataFrame:
    """One row per network over all complete jobs under ``path``, with a ``job`` column.

    Columns: the flattened config (unioned over jobs, missing -> NA), the per-network
    results and ``job`` (the job directory relative to ``path``, ``"."`` for a single run).
    Incomplete or corrupt jobs are skipped with one :class:`IncompleteJobWarning`.
    """
    good = _collect(path, ["results.parquet"])
    empty = pa.schema(list(RESULT_TYPES.items())).empty_table()
    table = _concat([t[0] for _, t in good] or [empty])
    columns = {**_config(table), **{k: table[k] for k in RESULT_TYPES}}
    return _frame(columns, [t[0].num_rows for _, t in good], [j for j, _ in good])


def load_curves(path: str | os.PathLike) -> pd.DataFrame:
    """Learning curves (long format) of all complete jobs under ``path``.

    Columns: the job's flattened config, ``network, step, loss, grad_norm, test_loss`` and
    ``job``; jobs are skipped as in :func:`load_sweep`.
    """
    good = _collect(path, ["results.parquet", "curves.parquet"])
    rows = []  # one row of config per job
    for _, (res, _) in good:
        cfg = pa.table(_config(res))
        rows.append(cfg.slice(0, 1) if cfg.num_rows else
                    pa.table({f.name: pa.nulls(1, f.type) for f in cfg.schema}))
    cfg = _concat(rows)
    empty = pa.schema(list(CURVE_TYPES.items())).empty_table()
    curves = pa.concat_tables([t[1] for _, t in good] or [empty])
    counts = [t[1].num_rows for _, t in good]
    idx = pa.array(np.repeat(np.arange(len(good)), counts))
    columns = {**{k: cfg[k].take(idx) for k in cfg.column_names},
               **{k: curves[k] for k in CURVE_TYPES}}
    return _frame(columns, counts, [j for j, _ in good])


def load_params(job_dir: str | os.PathLike) -> Params:
    """Architecture and initial/final parameters of one complete job (``ResultsError`` else)."""
    job = Path(job_dir)
    if not job.is_dir():
        raise ResultsError(f"{job}: no such job directory")
    try:
        data = _read_file(job, _read_done(job), "params.npz")
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            net = TwoLayerNet(**json.loads(z["net"].item()))
            theta0, theta, network = z["theta0"], z["theta"], z["network"]
    except _Skip as why:
        raise ResultsError(f"{job}: {why}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, BadZipFile) as err:
        raise ResultsError(f"{job}: params.npz unreadable ({type(err).__name__})") from None
    n = network.shape[0]
    if theta0.shape != (n, net.num_params) or theta.shape != theta0.shape:
        raise ResultsError(f"{job}: params.npz arrays do not match the network")
    return Params(net, theta0, theta, network)
