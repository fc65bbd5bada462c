"""bpexp: experiments on the optimization pathologies of two-layer networks."""

from .model import TwoLayerNet
from .objective import Objective

__version__ = "0.1.0"
__all__ = ["Objective", "TwoLayerNet", "__version__"]
