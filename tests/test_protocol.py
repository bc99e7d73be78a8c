"""The strict JSON every frame and stored row goes through."""

from __future__ import annotations

import math
import random

from tests.helpers import strict_loads
from trainer.contract.protocol import dumps, loads


def test_non_finite_numbers_become_null_and_the_rest_round_trips_exactly() -> None:
    rng = random.Random(7)
    values = [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(2000)] + [0.0, -0.0, 1]
    step = {"step": 3, "loss": math.nan, "grad_norms": [math.inf, -math.inf, 1e-7],
            "weight_norms": values, "t": 1795752000.123456}
    text = dumps(step)
    parsed = strict_loads(text)  # RFC 8259: fails on NaN or Infinity
    assert parsed["loss"] is None and parsed["grad_norms"] == [None, None, 1e-7]
    assert parsed["weight_norms"] == values and parsed["t"] == step["t"]
    assert loads(text) == parsed
    assert text.startswith('{"step":3,"loss":null,')  # compact, keys in order
