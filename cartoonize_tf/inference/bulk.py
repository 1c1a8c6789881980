"""Bulk jobs on Apache Beam: image files matched by a glob, cartoonized with RunInference.

    files (MatchFiles) -> skip those whose output exists -> read -> RunInference
    (`CartoonizerModelHandler`, keyed by the input path) -> write

The same pipeline runs on the DirectRunner (one machine, the default) and on Dataflow,
Flink or Spark runners: paths go through Beam's `FileSystems`, so inputs, outputs and the
model may be on gs:// or s3:// where the runner has those filesystems. Each output keeps its
input's file name (so its format) unless `output_format` says otherwise, and is written under
a temporary name then renamed, so a re-run skips exactly the images already done. Unreadable
images are logged and counted, and do not stop the job. Counters (namespace
`cartoonize_bulk`): `written`, `skipped`, `failed`.

With `steady`, the images are the frames of one sequence: in file-name order, on one
worker, each cartoon held to the previous one as `cartoonize video` does
(`steady.SteadyCartoonizer`).

Needs the optional extra: pip install -e ".[bulk]".
"""

import logging
import tempfile
import uuid
from pathlib import Path, PurePosixPath

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import (
    KeyedModelHandler,
    ModelHandler,
    PredictionResult,
    RunInference,
)

from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.options import FILE_FORMATS, RUN_MAX_PIXELS
from cartoonize_tf.utils.image_io import IMAGE_SUFFIXES, ImageReadError, read_image, write_image

logger = logging.getLogger(__name__)
NAMESPACE = "cartoonize_bulk"


def local_copy(path, folder):
    """`path` (any Beam filesystem) as a local file in `folder`, keeping its name."""
    if FileSystems.get_scheme(path) is None:
        return Path(path)
    target = Path(folder) / PurePosixPath(path).name
    with FileSystems.open(path) as source:
        target.write_bytes(source.read())
    return target


class CartoonizerModelHandler(ModelHandler):
    """RunInference's handler for a `.keras` generator (or the authors' checkpoint prefix).

    Each worker loads one `Cartoonizer`; a batch is a list of uint8 RGB images of any sizes,
    run one by one (on CPU a stacked batch is no faster, see `inference.video`).
    """

    def __init__(self, model_path, size_policy="full", strength=1.0, backend="auto",
                 cel_shading=True, look=None):
        self.model_path = str(model_path)
        self.options = {"size_policy": size_policy, "strength": strength, "backend": backend,
                        "cel_shading": cel_shading, "look": look}

    def load_model(self):
        from cartoonize_tf.inference.cartoonizer import Cartoonizer

        folder = tempfile.mkdtemp(prefix="cartoonize-model-")
        return Cartoonizer.load(local_copy(self.model_path, folder), **self.options)

    def run_inference(self, batch, model: ImageCartoonizer, inference_args=None):
        return [PredictionResult(image, model.cartoonize(image)) for image in batch]

    def get_num_bytes(self, batch):
        return sum(image.nbytes for image in batch)

    def get_metrics_namespace(self):
        return NAMESPACE


def output_path(input_path, output_dir, output_format=None):
    """Where the cartoon of `input_path` goes: OUTPUT_DIR/its name (suffix per `output_format`)."""
    name = PurePosixPath(input_path).name
    if output_format:
        name = f"{PurePosixPath(name).stem}{FILE_FORMATS[output_format]}"
    return FileSystems.join(str(output_dir), name)


class SkipDone(beam.DoFn):
    """Drops inputs whose output exists already (a re-run) and files that are not images."""

    def __init__(self, output_dir, output_format):
        self.output_dir, self.output_format = output_dir, output_format
        self.skipped = Metrics.counter(NAMESPACE, "skipped")

    def process(self, path):
        if PurePosixPath(path).suffix.lower() not in IMAGE_SUFFIXES:
            return
        if FileSystems.exists(output_path(path, self.output_dir, self.output_format)):
            self.skipped.inc()
            return
        yield path


class ReadImage(beam.DoFn):
    """path -> (path, uint8 RGB image); unreadable files are logged and counted."""

    def __init__(self, max_pixels):
        self.max_pixels = max_pixels
        self.failed = Metrics.counter(NAMESPACE, "failed")

    def process(self, path):
        with tempfile.TemporaryDirectory() as folder:
            try:
                yield path, read_image(local_copy(path, folder), self.max_pixels)
            except (ImageReadError, OSError) as error:
                logger.warning("skipped %s: %s", path, error)
                self.failed.inc()


def write_cartoon(path, cartoon, output_dir, output_format):
    """Writes the cartoon of `path` under a temporary name in `output_dir`, then renames it;
    returns its path."""
    target = output_path(path, output_dir, output_format)
    name = PurePosixPath(target).name
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / name
        write_image(cartoon, local)
        temporary = FileSystems.join(str(output_dir), f".{uuid.uuid4().hex[:8]}.part.{name}")
        with FileSystems.create(temporary) as sink:
            sink.write(local.read_bytes())
    FileSystems.rename([temporary], [target])
    return target


class WriteCartoon(beam.DoFn):
    """(path, PredictionResult) -> the output file, written under a temporary name, renamed."""

    def __init__(self, output_dir, output_format):
        self.output_dir, self.output_format = output_dir, output_format
        self.written = Metrics.counter(NAMESPACE, "written")

    def process(self, element):
        path, result = element
        target = write_cartoon(path, result.inference, self.output_dir, self.output_format)
        self.written.inc()
        yield target


class CartoonizeSequence(beam.DoFn):
    """[paths] -> each frame's steady cartoon written, in file-name order (`SteadyCartoonizer`);
    an unreadable frame is logged, counted and skipped, and the next starts afresh."""

    def __init__(self, handler, output_dir, output_format, max_pixels):
        self.handler = handler
        self.output_dir, self.output_format = output_dir, output_format
        self.reader = ReadImage(max_pixels)
        self.written = Metrics.counter(NAMESPACE, "written")

    def setup(self):
        from cartoonize_tf.inference.steady import SteadyCartoonizer

        self.steady = SteadyCartoonizer(self.handler.load_model())

    def process(self, paths):
        self.steady.reset()
        for path in sorted(paths):
            frames = list(self.reader.process(path))
            if not frames:
                self.steady.reset()
                continue
            _, image = frames[0]
            yield write_cartoon(path, self.steady.cartoonize(image), self.output_dir,
                                self.output_format)
            self.written.inc()


def add_bulk_steps(pipeline, input_glob, output_dir, model_path, size_policy="full",
                   strength=1.0, backend="auto", cel_shading=True, output_format=None,
                   max_pixels=RUN_MAX_PIXELS["generator"], look=None, steady=False):
    """Adds the steps to `pipeline`; returns the PCollection of written output paths."""
    handler = CartoonizerModelHandler(model_path, size_policy, strength, backend, cel_shading,
                                      look)
    paths = (pipeline
             | "Match" >> fileio.MatchFiles(input_glob)
             | "Paths" >> beam.Map(lambda metadata: metadata.path)
             | "Skip done" >> beam.ParDo(SkipDone(output_dir, output_format)))
    if steady:
        return (paths
                | "Sequence" >> beam.combiners.ToList()
                | "Steady" >> beam.ParDo(CartoonizeSequence(handler, output_dir, output_format,
                                                            max_pixels)))
    return (paths
            | "Read" >> beam.ParDo(ReadImage(max_pixels))
            | "Cartoonize" >> RunInference(KeyedModelHandler(handler))
            | "Write" >> beam.ParDo(WriteCartoon(output_dir, output_format)))


# The runner when none is named: Beam's in-process portable runner. (Beam's "DirectRunner"
# first tries Prism, which it downloads from the internet, then falls back with a warning.)
LOCAL_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"


def run_bulk(input_glob, output_dir, model_path, pipeline_args=(), **options):
    """Runs the job to the end; returns {"written": n, "skipped": n, "failed": n}.

    `pipeline_args` are Beam's own flags (--runner, --project, --temp_location, ...);
    without --runner the job runs in this process (LOCAL_RUNNER), downloading nothing.
    `options` go to `add_bulk_steps`.
    """
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    if not FileSystems.exists(str(output_dir)):
        FileSystems.mkdirs(str(output_dir))
    pipeline_args = list(pipeline_args)
    if not any(arg == "--runner" or arg.startswith("--runner=") for arg in pipeline_args):
        pipeline_args.append(f"--runner={LOCAL_RUNNER}")
    pipeline = beam.Pipeline(options=PipelineOptions(pipeline_args))
    add_bulk_steps(pipeline, input_glob, output_dir, model_path, **options)
    result = pipeline.run()
    result.wait_until_finish()
    counts = {}
    for name in ("written", "skipped", "failed"):
        query = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE).with_name(name))
        counts[name] = sum(counter.committed or 0 for counter in query["counters"])
    return counts
