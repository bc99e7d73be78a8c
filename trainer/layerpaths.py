"""Which layers of a Keras model the probe reports on, and their path names (`block_2/conv`).

A *probed layer* is one the user would recognise as a layer: a built-in Keras layer (Dense,
Conv2D, LSTM, MultiHeadAttention: its own sublayers, such as an LSTM's cell or attention's query
projection, are part of it), found by walking into nested models and into the user's own layer
classes that hold other layers. Each one owns the trainable variables it tracks.
"""

from __future__ import annotations

from typing import Any

import keras


def _is_container(layer: keras.layers.Layer) -> bool:
    """Whether to look inside: a model, or a layer class not from Keras that holds layers."""
    if isinstance(layer, keras.Model):
        return True
    return not type(layer).__module__.startswith("keras.") and bool(_children(layer))


def _children(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    return list(getattr(layer, "_layers", None) or getattr(layer, "layers", None) or [])


def probed_layers(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    """(path, layer) for every probed layer with trainable weights, input side first.

    Paths are Keras layer names, joined by `/` below the top model (whose own name is left
    out); a name that repeats gets `_2`, `_3`... A model whose variables belong to no such
    layer (weights it made itself) is listed as one layer under its own name.

    Args:
        model: a built Keras model.
    """
    found: list[tuple[str, keras.layers.Layer]] = []
    seen: set[int] = set()

    def walk(layer: keras.layers.Layer, prefix: str) -> None:
        for child in _children(layer):
            if id(child) in seen or not child.trainable_weights:
                continue
            seen.add(id(child))
            path = f"{prefix}{child.name}"
            if _is_container(child):
                walk(child, path + "/")
                own = _own_weights(child)
                if own:
                    found.append((path, _Own(child, own)))
            else:
                found.append((path, child))

    walk(model, "")
    if not found:
        found.append((model.name, model))
    return _unique(found)


class _Own:
    """A container's own weights (not its sublayers'), reported as a layer of its own."""

    def __init__(self, layer: keras.layers.Layer, weights: list[Any]) -> None:
        self.layer, self.trainable_weights = layer, weights
        self.name = layer.name

    @property
    def output(self) -> Any:
        return self.layer.output


def _own_weights(layer: keras.layers.Layer) -> list[Any]:
    inner = {id(v) for child in _children(layer) for v in child.trainable_weights}
    return [v for v in layer.trainable_weights if id(v) not in inner]


def _unique(found: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    counts: dict[str, int] = {}
    out = []
    for path, layer in found:
        counts[path] = counts.get(path, 0) + 1
        out.append((path if counts[path] == 1 else f"{path}_{counts[path]}", layer))
    return out


def kind_of(layer: Any) -> str:
    """The Keras class name of a probed layer."""
    return type(layer.layer if isinstance(layer, _Own) else layer).__name__


def describe(model: keras.Model) -> list[dict[str, Any]]:
    """CONTRACT §4 `layers` for any model: path name, Keras kind, trainable parameters."""
    return [{"name": path, "kind": kind_of(layer),
             "params": int(sum(int(w.numpy().size) for w in layer.trainable_weights))}
            for path, layer in probed_layers(model)]
