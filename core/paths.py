"""Where the bundled assets live (the repository's assets/ folder, next to core/)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
MNIST_DIR = ASSETS / "mnist"
MODELS_DIR = ASSETS / "models"
DEFAULT_MODEL = MODELS_DIR / "lenet-bw.npz"
