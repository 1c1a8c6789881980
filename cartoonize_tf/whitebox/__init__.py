"""The white-box representations computed with numpy and OpenCV (no TensorFlow): superpixels,
region grouping, the cartoon renderer."""
