"""Generation engines: the Engine protocol, the registry, and the weight-free concat engine."""

from musicapp.generation.base import Conditioning, Engine, GenerationResult, Material
from musicapp.generation.registry import default_engine_name, engines, get_engine, register

__all__ = [
    "Conditioning",
    "Engine",
    "GenerationResult",
    "Material",
    "default_engine_name",
    "engines",
    "get_engine",
    "register",
]
