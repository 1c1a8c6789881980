"""Exports of the inference pipeline: serving signatures, SavedModel, TFLite and ONNX."""
