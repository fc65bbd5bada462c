"""bpexp: experiments on the optimization pathologies of two-layer networks."""

from .model import TwoLayerNet
from .objective import Objective
from .results import load_curves, load_params, load_sweep

__version__ = "0.1.0"
__all__ = ["Objective", "TwoLayerNet", "__version__", "load_curves", "load_params", "load_sweep"]
