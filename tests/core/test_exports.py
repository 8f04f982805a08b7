"""The on-disk store of traced programs: pytrees and PRNG keys survive the round trip, and a
changed code fingerprint or a damaged entry is a miss, never a wrong program."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lensframe import exports


class State(NamedTuple):
    total: jax.Array
    key: jax.Array


def step(state, data):
    key, sub = jax.random.split(state.key)
    return State(state.total + jnp.sum(data["x"] * jax.random.normal(sub, data["x"].shape)), key)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "directory", lambda: tmp_path / "lensframe-exports")
    monkeypatch.setattr(exports, "_fingerprint", "fingerprint-a")
    return tmp_path / "lensframe-exports"


def test_round_trip_with_pytrees_and_keys(store):
    args = (State(jnp.zeros(()), jax.random.key(3)), {"x": jnp.arange(4.0)})
    program = exports.trace(step, args)
    exports.save("k", program)
    assert len(list(store.glob("*.bin"))) == 1
    loaded = exports.load("k").compile(args)
    direct = step(*args)
    out = loaded(*args)
    assert isinstance(out, State)
    assert float(out.total) == float(direct.total)
    np.testing.assert_array_equal(jax.random.key_data(out.key), jax.random.key_data(direct.key))
    # new data of the same shapes through the same loaded program
    other = (args[0], {"x": jnp.arange(4.0) + 1.0})
    assert float(loaded(*other).total) == float(step(*other).total)


def test_changed_code_or_damaged_entry_is_a_miss(store, monkeypatch):
    args = (State(jnp.zeros(()), jax.random.key(0)), {"x": jnp.ones(3)})
    exports.save("k", exports.trace(step, args))
    assert exports.load("k") is not None
    monkeypatch.setattr(exports, "_fingerprint", "fingerprint-b")  # e.g. a plugin file edited
    assert exports.load("k") is None
    monkeypatch.setattr(exports, "_fingerprint", "fingerprint-a")
    for entry in store.glob("*.bin"):
        entry.write_bytes(b"not a program")
    assert exports.load("k") is None


def test_fingerprint_covers_lensframe_and_plugin_sources():
    files = {p.name for p in exports._source_files()}
    assert {"dispatch.py", "imaging.py", "lbfgs.py"} <= files
