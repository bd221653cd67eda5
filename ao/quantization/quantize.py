"""``prepare`` inserts observers, ``convert`` swaps float modules for quantized ones."""

from __future__ import annotations

from typing import Dict, List, Optional

from ao import _modules
from ao.quantization.mappings import get_default_static_quant_module_mappings
from ao.quantization.qconfig import QConfig, default_qconfig


class Prepared(_modules.Module):
    """A float model wrapped so that calibration runs record the input range."""

    def __init__(self, model: _modules.Module, qconfig: QConfig) -> None:
        self.model = model
        self.qconfig = qconfig
        self.input_observer = qconfig.activation()

    def forward(self, inputs: List[float]) -> List[float]:
        return self.model(self.input_observer(inputs))


def prepare(model: _modules.Module, qconfig: Optional[QConfig] = None) -> Prepared:
    return Prepared(model, qconfig or default_qconfig)


def convert(prepared: Prepared, mapping: Optional[Dict[type, type]] = None) -> _modules.Module:
    """Replace the prepared model's float module by its quantized counterpart."""
    mapping = mapping or get_default_static_quant_module_mappings()
    observer = prepared.input_observer
    input_range = [observer.min_val, observer.max_val]
    model = prepared.model
    target = mapping.get(type(model))
    if target is None:
        raise TypeError(f"no quantized replacement for {type(model).__name__}")
    return target.from_float(model, input_range)  # type: ignore[attr-defined, no-any-return]
