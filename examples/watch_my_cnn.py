"""Watch your own Keras model in GradWatch: a small conv net on the 8×8 digits.

    make run                                   # the dashboard, in another terminal
    .venv/bin/python examples/watch_my_cnn.py  # or paste this into a notebook

Arguments (all optional): --url, --token (a visitor token from the page: the run is then yours
there, so you can stop it), --epochs, --sigmoid (a deep sigmoid net that vanishes).
"""

from __future__ import annotations

import argparse
import json

import keras
from sklearn.datasets import load_digits

from gradwatch import GradWatchCallback


def conv_block(filters: int, activation: str, name: str) -> keras.Sequential:
    """Conv2D → BatchNormalization → activation, as one nested block (its layers show as
    `block_1/conv`, `block_1/bn` in the dashboard)."""
    return keras.Sequential([
        keras.layers.Conv2D(filters, 3, padding="same", name="conv"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation(activation, name="act"),
    ], name=name)


def build(activation: str = "relu", blocks: int = 3) -> keras.Model:
    images = keras.Input((8, 8, 1), name="digit")
    x = images
    for i in range(1, blocks + 1):
        x = conv_block(16, activation, f"block_{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(10, name="classifier")(x)
    return keras.Model(images, logits, name="digits_cnn")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=None)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--sigmoid", action="store_true")
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    y = digits.target

    keras.utils.set_random_seed(0)
    model = build("sigmoid" if args.sigmoid else "relu", blocks=8 if args.sigmoid else 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    watch = GradWatchCallback(args.url, name="my digits cnn", token=args.token)
    history = model.fit(x, y, batch_size=32, epochs=args.epochs, validation_split=0.2,
                        verbose=0, callbacks=[watch])
    print(json.dumps({"run": watch.run and watch.run["id"],
                      "epochs": len(history.history["loss"])}), flush=True)


if __name__ == "__main__":
    main()
