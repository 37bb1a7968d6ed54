"""Recognition engine: decoding, preprocessing, models. Imports no web code and no PyTorch."""
