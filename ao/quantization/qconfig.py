"""Which observers quantize activations and weights."""

from __future__ import annotations

from typing import Callable, NamedTuple

from ao.quantization.observer import MinMaxObserver, ObserverBase


class QConfig(NamedTuple):
    activation: Callable[[], ObserverBase]
    weight: Callable[[], ObserverBase]


default_qconfig = QConfig(
    activation=MinMaxObserver,
    weight=lambda: MinMaxObserver(dtype="qint8", symmetric=True),
)
