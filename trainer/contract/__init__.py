"""What the server, the workers and the page agree on, in one TF-free package.

It imports only pydantic, msgspec and the standard library, so the server can import it without
loading TensorFlow (tests/test_layering.py checks this statically, lazy imports included). The
server imports nothing else from `trainer/`; the page's `/static/contract.js` is generated from it.

- `config`: RunConfig, its names, defaults, limits and the sentences of its errors;
  `configerrors` turns its validation errors into `[{loc, path, msg, type}]`.
- `protocol`: the event records a job emits, statuses, close codes, strict JSON `dumps`/`loads`.
- `schemas`: the API's records as models (Run, History, Diagnosis, Preset).
- `presets`: named RunConfigs that each show one phenomenon or its remedy.
- `thresholds`: the diagnosis's thresholds, shared with the page's colour bars.
- `redisnames`: the Redis keys, queues and timings of the scale-out path.
"""
