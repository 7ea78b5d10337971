"""The embedded store's per-service percentiles, worked for all services at once, are numpy's own."""

from __future__ import annotations

import numpy as np
import pytest

from ops.history.embedded_queries import _percentiles_by_service

QS = (0, 1, 5, 25, 50, 90, 95, 99, 100)


@pytest.mark.parametrize("seed", range(5))
def test_every_service_gets_the_very_floats_np_percentile_gives(seed):
    rng = np.random.default_rng(seed)
    services = 60
    sizes = rng.choice([0, 1, 2, 3, 7, 90, 1001], size=services)  # none, a few, many; ties below
    codes = np.repeat(np.arange(services), sizes)
    values = np.round(rng.uniform(0.1, 3000, size=len(codes)), 1)
    values[::5] = 42.0
    shuffle = rng.permutation(len(codes))
    codes, values = codes[shuffle], values[shuffle]

    found, rows = _percentiles_by_service(codes, values, services, QS)

    assert found.tolist() == [i for i in range(services) if sizes[i]]
    for code, row in zip(found, rows, strict=True):
        expected = np.percentile(values[codes == code], list(QS))
        assert row.tolist() == expected.tolist()  # bit for bit, not approximately


def test_a_service_without_values_is_left_out():
    found, rows = _percentiles_by_service(np.array([2, 2]), np.array([5.0, 1.0]), 4, (50, 95))
    assert found.tolist() == [2]
    assert rows.tolist() == [np.percentile([1.0, 5.0], [50, 95]).tolist()]
