"""geo.points: many points made with the garbage collector paused, and nothing else changed."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import shapely

from geo.points import collector_paused, points


def test_points_are_the_same_as_shapely_points():
    lon = np.array([116.4, 116.5, 117.0])
    lat = np.array([39.9, 40.0, 39.8])
    made = points(lon, lat)
    assert made.dtype == object and len(made) == 3
    assert shapely.equals(made, shapely.points(lon, lat)).all()
    assert gc.isenabled()


def test_the_collector_runs_again_afterwards_also_after_an_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
