"""The network canvas.

- :mod:`.view`: ``CanvasView(document)``, the central widget (gestures, zoom/pan, drops,
  context menus, export to PNG/SVG);
- :mod:`.scene`: ``CanvasScene``, which watches the document and keeps item maps;
- :mod:`.items`: the neuron item (and the dots drawn instead when zoomed far out);
- :mod:`.connections`: one item drawing every connection from NumPy arrays;
- :mod:`.interactions`: the mouse modes (connect, move, rubber band, pan);
- :mod:`.palette`: ``Palette(document)``, neuron types to drag onto the canvas;
- :mod:`.overlay`: ``Overlay`` for the backprop player (halos, badges, arrows).
"""
