"""Writing a job directory incrementally and crash-safely.

A job may train its networks in parts (a memory budget); :class:`JobWriter` appends each
part to temporary files (Parquet row groups, ``.npy`` memory maps), and :meth:`commit`
moves them into place with ``os.replace`` after an fsync, writes ``provenance.json`` and
finally ``done.json`` with every file's sha256. Until ``done.json`` is written the job is
incomplete, and any older ``done.json`` is removed before the first byte of a rewrite, so
no reader ever takes a partial job for a complete one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import results
from .model import TwoLayerNet
from .train import TrainResult

Array = np.ndarray


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


class JobWriter:
    """Stream the parts of one job into ``job_dir``; nothing is visible until commit.

    Parameters
    ----------
    job_dir : path
    cfg : mapping
        The job's resolved config (flattened into the result columns).
    net : TwoLayerNet
    """

    def __init__(self, job_dir: str | os.PathLike, cfg: Any, net: TwoLayerNet):
        self.job = Path(job_dir)
        self.job.mkdir(parents=True, exist_ok=True)
        (self.job / results.DONE).unlink(missing_ok=True)
        for stale in self.job.glob(".writing-*"):  # left by a killed writer
            shutil.rmtree(stale, ignore_errors=True)
        self.cfg, self.net = cfg, net
        self.flat = results.flatten_config(cfg)
        self.tmp = Path(tempfile.mkdtemp(dir=self.job, prefix=".writing-"))
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.parts: list[tuple[int, int]] = []  # (first network, count) per part
        self.count = 0

    def __enter__(self) -> JobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, name: str, table: pa.Table) -> None:
        w = self.writers.get(name)
        if w is None:
            w = self.writers[name] = pq.ParquetWriter(self.tmp / name, table.schema)
        w.write_table(table)

    def append(self, result: TrainResult, solved: Array, theta0: Array, init_loss: Array,
               first_network: int) -> None:
        """Add one trained part (networks ``first_network ..``) to the job."""
        res, cur = results.part_tables(self.flat, result, solved, theta0, init_loss, self.net,
                                       first_network)
        self._write("results.parquet", res)
        self._write("curves.parquet", cur)
        n = len(res)
        for name, arr in (("theta0", theta0), ("theta", result.theta)):
            np.save(self.tmp / f"{name}.{len(self.parts)}.npy", np.asarray(arr, np.float64))
        self.parts.append((first_network, n))
        self.count += n

    def _params(self) -> Path:
        """``params.npz`` assembled from the parts on disk, one array at a time."""
        path = self.tmp / "params.npz"
        P = self.net.num_params
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
            for name in ("theta0", "theta"):
                with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array_header_1_0(
                        f, {"descr": "<f8", "fortran_order": False, "shape": (self.count, P)})
                    for i in range(len(self.parts)):
                        part = np.load(self.tmp / f"{name}.{i}.npy", allow_pickle=False)
                        f.write(np.ascontiguousarray(part, "<f8").tobytes())
            network = np.concatenate([first + np.arange(n, dtype=np.int64)
                                      for first, n in self.parts])
            for name, arr in (("network", network), ("net", np.array(results.net_json(self.net)))):
                with z.open(f"{name}.npy", "w") as f:
                    np.lib.format.write_array(f, arr, allow_pickle=False)
        return path

    def commit(self, provenance: dict) -> None:
        """Move every file into place, then write ``provenance.json`` and ``done.json``."""
        for w in self.writers.values():
            w.close()
        self.writers = {}
        staged = {name: self.tmp / name for name in ("results.parquet", "curves.parquet")}
        staged["params.npz"] = self._params()
        hashes = {}
        for name, path in staged.items():
            _fsync(path)
            hashes[name] = _sha256(path)
            os.replace(path, self.job / name)
        hashes["provenance.json"] = results.write_json_atomic(self.job / "provenance.json",
                                                              provenance)
        done = {"complete": True, "networks": self.count,
                "config_hash": results.config_hash(self.cfg), "files": hashes}
        results.write_json_atomic(self.job / results.DONE, done)

    def close(self) -> None:
        """Drop what was not committed (temporary files only)."""
        for w in self.writers.values():
            w.close()
        self.writers = {}
        shutil.rmtree(self.tmp, ignore_errors=True)
