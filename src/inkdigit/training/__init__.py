"""Training and evaluation. The only part of inkdigit that needs the ``train`` extra (PyTorch)."""
