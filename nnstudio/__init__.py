"""NN Studio: build, train and understand small neural networks.

``nnstudio.core`` is the Qt-free engine (pure NumPy); ``nnstudio.gui`` is the desktop app that
drives it and shows what it computes.
"""

__version__ = "0.1.0"
