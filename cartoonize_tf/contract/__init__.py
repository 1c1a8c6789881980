"""The exported model's contract: its signatures, look controls, limits and folder layout.

The ground floor: imports nothing else of the project and no TensorFlow when imported, so
the export, inference, serving, the command line and the web page share one definition.
"""
