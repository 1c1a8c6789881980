"""Training data: the tf.data pipeline, the photo sources and the default data preparation."""
