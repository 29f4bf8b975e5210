"""The Qt-free heart of NN Studio: network model, engine, training, datasets and project files.

Nothing in this package imports Qt; a test enforces it (tests/core/test_no_qt.py).
"""
