"""Cartoonizing many files: finding inputs, naming outputs, and going on past bad files."""

import glob
import itertools
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from cartoonize_tf.inference.image_cartoonizer import ImageCartoonizer
from cartoonize_tf.inference.options import FILE_FORMATS
from cartoonize_tf.inference.sizing import ImageTooSmallError
from cartoonize_tf.utils.image_io import (
    IMAGE_SUFFIXES,
    ImageReadError,
    ImageTooLargeError,
    read_image,
    write_image,
)


def collect_inputs(spec):
    """Files named by `spec`: a file, a folder (its image files, sorted) or a glob pattern.

    Raises:
        FileNotFoundError: nothing matches.
    """
    path = Path(spec)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"{path} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        return files
    matches = sorted(Path(p) for p in glob.glob(str(spec), recursive=True) if Path(p).is_file())
    if not matches:
        raise FileNotFoundError(f"No file, folder or glob match for {spec!r}")
    return once_each(matches)


def once_each(paths):
    """`paths` without those that name a file already listed (`**` follows links to folders,
    so a link loop names one file many times)."""
    seen, kept = set(), []
    for path in paths:
        target = path.resolve()
        if target not in seen:
            seen.add(target)
            kept.append(path)
    return kept


def check_output_dir(output_dir):
    """Checks that files can be written in `output_dir` (or, if missing, in the folder that will
    hold it), creating nothing.

    Raises:
        OSError: with a one-line message, when it (or a parent) is a file or is not writable.
    """
    output_dir = Path(output_dir)
    existing = output_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(
            f"--output-dir {output_dir} is a file, not a folder" if existing == output_dir
            else f"--output-dir {output_dir} cannot be made: {existing} is a file")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".write-check-"):
            pass
    except OSError as error:
        raise OSError(f"cannot write to --output-dir {output_dir}: "
                      f"{error.strerror or error} ({existing})") from None


def candidate_names(source, suffix):
    """Output names for `source`, best first: its own stem, then ones that avoid a clash."""
    yield f"{source.stem}{suffix}"
    yield f"{source.stem}_{source.suffix.lstrip('.').lower()}{suffix}"
    yield f"{source.stem}_cartoon{suffix}"
    for number in itertools.count(2):
        yield f"{source.stem}_cartoon_{number}{suffix}"


def plan_outputs(inputs, output_dir, output_format=None):
    """Maps each input to its output path in `output_dir`.

    An output keeps its input's name (so its format) unless `output_format`
    ("png" or "jpg") says otherwise. No two outputs share a path and no output
    is an input file: on a clash the next of `candidate_names` is taken.
    """
    output_dir = Path(output_dir)
    blocked = {p.resolve() for p in inputs}
    plan = []
    for source in inputs:
        suffix = FILE_FORMATS[output_format] if output_format else source.suffix
        target = next(output_dir / name for name in candidate_names(source, suffix)
                      if (output_dir / name).resolve() not in blocked)
        blocked.add(target.resolve())
        plan.append((source, target))
    return plan


@dataclass
class BatchReport:
    """What a batch run did: how many images were written and which files failed, and why."""

    written: int = 0
    failures: list = field(default_factory=list)  # (path, message)
    too_large: list = field(default_factory=list)  # paths over the pixel cap, not decoded
    seconds: float = 0.0
    sizing: dict = field(default_factory=dict)  # "resized" / "tiled" -> count of images

    def summary(self):
        total = self.written + len(self.failures)
        per_image = f" ({self.seconds / total:.2f} s per image)" if total else ""
        line = (f"Cartoonized {self.written} of {total} image{'' if total == 1 else 's'} in "
                f"{self.seconds:.1f} s{per_image}; {len(self.failures)} failed")
        if self.failures:
            line += ": " + ", ".join(str(path) for path, _ in self.failures)
        if self.sizing.get("resized"):
            line += (f"; {self.sizing['resized']} resized to the authors' size (short side "
                     "at most 720 px, --resize authors)")
        if self.sizing.get("tiled"):
            line += f"; {self.sizing['tiled']} run in tiles at full size (--tile)"
        return line


FILE_ERRORS = (ImageReadError, ImageTooSmallError, OSError, ValueError)


def cartoonize_files(cartoonizer: ImageCartoonizer, plan, progress=True, max_pixels=None):
    """Reads, cartoonizes and writes each `(source, target)`; a bad file fails alone.

    A file whose header claims more than `max_pixels` (height * width) fails
    without being decoded (`image_io.ImageTooLargeError`).

    While one image is cartoonized, the next is decoded and the last cartoon
    encoded in two background threads (the runtimes release the GIL), at most
    one of each ahead, so memory does not grow with the folder.
    """
    report = BatchReport()
    start = time.perf_counter()

    def fail(source, error):
        message = str(error) if str(source) in str(error) else f"{source}: {error}"
        report.failures.append((source, message))
        if isinstance(error, ImageTooLargeError):
            report.too_large.append(source)
        tqdm.write(f"error: {message}", file=sys.stderr)

    def finish(write):
        if write is None:
            return
        source, future = write
        try:
            future.result()
            report.written += 1
        except FILE_ERRORS as error:
            fail(source, error)

    with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer:
        upcoming = reader.submit(read_image, plan[0][0], max_pixels) if plan else None
        pending_write = None
        for index, (source, target) in enumerate(tqdm(plan, desc="Cartoonizing", unit="image",
                                                      disable=not progress)):
            current = upcoming
            if index + 1 < len(plan):
                upcoming = reader.submit(read_image, plan[index + 1][0], max_pixels)
            try:
                image = current.result()
                cartoon = cartoonizer.cartoonize(image)
            except FILE_ERRORS as error:
                fail(source, error)
                continue
            note = getattr(cartoonizer, "sizing_note", lambda shape: None)(image.shape)
            if note:
                report.sizing[note] = report.sizing.get(note, 0) + 1
            finish(pending_write)
            pending_write = (source, writer.submit(write_image, cartoon, target))
        finish(pending_write)
    report.seconds = time.perf_counter() - start
    return report
