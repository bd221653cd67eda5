"""Which quantized module replaces which float module.

These imports are why ``ao.quantization`` cannot be imported eagerly by ``ao``:
``ao.nn.quantized`` and ``ao.nn.qat`` import ``ao.quantization`` in turn.
"""

from __future__ import annotations

from typing import Dict, Type

import ao.nn.intrinsic as nni
import ao.nn.qat as nnqat
import ao.nn.quantized as nnq
from ao import _modules


def get_default_static_quant_module_mappings() -> Dict[Type[_modules.Module], type]:
    """Float (and QAT) module types mapped to their integer replacements."""
    return {
        _modules.Linear: nnq.Linear,
        nnqat.Linear: nnq.Linear,
        nni.LinearReLU: nnq.LinearReLU,
    }
