"""Top layer: concrete attack reproductions and the ``ethvoip`` command-line front door."""
