"""A run's sample grids on both backends: photo | output images in TensorBoard, without TensorFlow."""

import io
import time

import numpy as np
from PIL import Image

# Photos of the run's first batch shown in the grids.
SAMPLE_COUNT = 4
TAG = "samples/photo_output"


class SampleGrids:
    """Writes a few photos beside the generator's outputs as TensorBoard images (`TAG`) in `logs/`.

    Args:
        logs: the run's TensorBoard folder.
        photos: a batch of photos in [-1, 1]; the first `SAMPLE_COUNT` are drawn.
        render: function mapping photos to the outputs in [-1, 1] the run's losses see.
    """

    def __init__(self, logs, photos, render):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.photos = np.asarray(photos[:SAMPLE_COUNT], np.float32)
        self.render = render
        self.writer = EventFileWriter(str(logs))

    def write(self, step):
        outputs = np.asarray(self.render(self.photos), np.float32)
        grids = np.concatenate([self.photos, outputs], axis=2)  # photo | output, side by side
        grids = np.clip((grids + 1.0) * 127.5, 0, 255).astype(np.uint8)
        self.writer.add_event(image_event(TAG, grids, step))
        self.writer.flush()


def image_event(tag, images, step):
    """A TensorBoard event holding uint8 `images` (N, H, W, 3) as PNGs, as `tf.summary.image`
    writes them: a string tensor of the width, the height, then one PNG per image."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.image.metadata import create_summary_metadata
    from tensorboard.util.tensor_util import make_tensor_proto

    height, width = images.shape[1:3]
    pngs = [png_bytes(image) for image in images]
    metadata = create_summary_metadata(display_name=tag, description="")
    metadata.data_class = summary_pb2.DataClass.DATA_CLASS_BLOB_SEQUENCE
    event = event_pb2.Event(wall_time=time.time(), step=step)
    event.summary.value.add(tag=tag, metadata=metadata,
                            tensor=make_tensor_proto([str(width).encode(), str(height).encode(),
                                                      *pngs]))
    return event


def png_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
