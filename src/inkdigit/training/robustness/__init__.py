"""The public robustness suite: test digits rendered the way real input arrives, and measured."""
