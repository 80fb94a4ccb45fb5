"""convsram core: the Conv-SRAM chip model, energy ledger, network, training and evaluation.

numpy only; nothing here imports Qt (enforced by tests/test_layering.py and import-linter).
"""
