"""Where the bundled assets live: the package data ``convsram.assets`` (the repository's assets/
folder), found through importlib.resources so it works from a checkout, an editable install and a
wheel alike."""

from importlib.resources import files
from pathlib import Path

ASSETS = Path(str(files("convsram.assets")))
MNIST_DIR = ASSETS / "mnist"
MODELS_DIR = ASSETS / "models"
DEFAULT_MODEL = MODELS_DIR / "lenet-bw.npz"
