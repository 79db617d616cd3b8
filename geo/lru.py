"""A cache bounded in bytes, not in entries: what the server keeps of uploads already read.

A count bound says nothing about memory: eight 100,000-point layers are hundreds of megabytes,
eight small ones a few. ``ByteLRU`` keeps the most recently used values whose estimated sizes add
up to at most ``max_bytes`` and forgets the least recently used beyond that. A value larger than
the whole budget is kept alone (everything else is forgotten) until the next one arrives: the
upload being worked on is not read again at every rerun, and the memory held is at most
``max(max_bytes, the newest value)``, which the import limits bound in turn. ``estimate_bytes`` sizes the values this app caches
(GeoDataFrames with their shapely geometries, DataFrames, arrays, bytes, street graphs,
dataclasses of them) from their contents, without serialising them.

The cache is thread-safe (Streamlit serves every session from threads of one process); two
threads asking for the same missing key at once compute it once.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
import shapely

V = TypeVar("V")

# What one shapely geometry costs besides its coordinates: the Python object (~48 B), the GEOS
# geometry and its coordinate sequence (~150 B for a point, measured with RSS on 10^6 points).
_GEOMETRY_OVERHEAD_BYTES = 200
_COORDINATE_BYTES = 32  # x, y (z) doubles in GEOS, plus slack (measured: ~720 B for a 17-vertex polygon)
# networkx graphs: a dict per node and per edge with a handful of attributes (measured: ~0.6 KB
# per node and ~1 KB per edge for osmnx graphs with travel times).
_NODE_BYTES = 600
_EDGE_BYTES = 1000


def _geometry_bytes(values: np.ndarray) -> int:
    geoms = np.asarray(values, dtype=object)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return 8 * len(geoms)
    coordinates = int(shapely.get_num_coordinates(geoms[present]).sum())
    return 8 * len(geoms) + int(present.sum()) * _GEOMETRY_OVERHEAD_BYTES + coordinates * _COORDINATE_BYTES


def _frame_bytes(frame: pd.DataFrame) -> int:
    total = 0
    for name in frame.columns:
        column = frame[name]
        dtype = getattr(column, "dtype", None)
        if getattr(dtype, "name", "") == "geometry":
            total += _geometry_bytes(column.values)
        else:
            total += int(column.memory_usage(index=False, deep=True))
    return total + int(frame.index.memory_usage(deep=True))


def estimate_bytes(value: object, *, _depth: int = 0) -> int:
    """An estimate of the memory ``value`` holds, in bytes (what the cache charges for it).

    Frames count their columns deeply (text included) and each shapely geometry by its
    coordinates; graphs count their nodes and edges; dataclasses, mappings and sequences the sum
    of their items. Anything else counts ``sys.getsizeof``.
    """
    if _depth > 6:
        return sys.getsizeof(value)
    deeper = _depth + 1
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return sys.getsizeof(value)
    if isinstance(value, pd.DataFrame):
        return _frame_bytes(value)
    if isinstance(value, pd.Series):
        if getattr(value.dtype, "name", "") == "geometry":
            return _geometry_bytes(value.values)
        return int(value.memory_usage(index=True, deep=True))
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            flat = value.ravel()
            if flat.size and isinstance(flat[0], shapely.Geometry | None):
                return _geometry_bytes(flat)
            return value.nbytes + estimate_bytes(list(flat), _depth=deeper)
        return value.nbytes
    if isinstance(value, shapely.Geometry):
        return _geometry_bytes(np.array([value], dtype=object))
    if hasattr(value, "number_of_nodes") and hasattr(value, "number_of_edges"):  # networkx
        return int(value.number_of_nodes()) * _NODE_BYTES + int(value.number_of_edges()) * _EDGE_BYTES
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(estimate_bytes(getattr(value, f.name), _depth=deeper)
                                          for f in dataclasses.fields(value))
    if isinstance(value, Mapping):
        return sys.getsizeof(value) + sum(estimate_bytes(k, _depth=deeper) + estimate_bytes(v, _depth=deeper)
                                          for k, v in value.items())
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], shapely.Geometry | None):
        geoms = np.empty(len(value), dtype=object)
        geoms[:] = value
        return sys.getsizeof(value) + _geometry_bytes(geoms)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        sample = items[:1000]  # a long list of similar items: measured on its first thousand
        measured = sum(estimate_bytes(v, _depth=deeper) for v in sample)
        return sys.getsizeof(value) + (measured * len(items) // len(sample) if sample else 0)
    return sys.getsizeof(value)


class ByteLRU(Generic[V]):
    """Least-recently-used cache whose values add up to at most ``max_bytes`` (estimated).

    Parameters
    ----------
    max_bytes : int
        The budget. 0 keeps nothing (every call computes).
    sizeof : callable, optional
        Bytes a value holds; defaults to ``estimate_bytes``.
    """

    def __init__(self, *, max_bytes: int, sizeof: Callable[[Any], int] = estimate_bytes) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be 0 or more, not {max_bytes!r}")
        self.max_bytes = int(max_bytes)
        self._sizeof = sizeof
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    @property
    def total_bytes(self) -> int:
        """The estimated bytes of the values kept now (above ``max_bytes`` only for one value
        larger than the budget, kept alone)."""
        return self._bytes

    def get(self, key: Hashable) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: V, *, nbytes: int | None = None) -> V:
        """Keep ``value`` under ``key`` (replacing any), then forget the least recently used
        values until the budget holds; a value over the whole budget is kept alone. Returns it."""
        size = int(self._sizeof(value) if nbytes is None else nbytes)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if self.max_bytes > 0:
                self._entries[key] = (value, size)
                self._bytes += size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``compute()`` kept under it (computed once even when
        several threads ask at once). Exceptions of ``compute`` propagate and nothing is kept."""
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            found = self.get(key)
            if found is not None:
                return found
            try:
                return self.put(key, compute())
            finally:
                with self._lock:
                    self._computing.pop(key, None)

    def pop(self, key: Hashable) -> V | None:
        """Forget ``key``; its value, or None."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return None
            self._bytes -= entry[1]
            return entry[0]

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
