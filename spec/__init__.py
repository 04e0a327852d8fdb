"""The one description of every ethvoip protocol, read by both the model and the code.

Nothing here imports another layer of ethvoip: ``spec`` is the bottom of the stack.
"""
