"""GradWatch for your own Keras model: `model.fit(..., callbacks=[GradWatchCallback(url)])`."""

from gradwatch.callback import GradWatchCallback

__all__ = ["GradWatchCallback"]
