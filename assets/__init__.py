"""convsram's bundled data (installed as the package data ``convsram.assets``): the MNIST test and
training sets (mnist/) and the trained models with their model cards (models/). No code."""
