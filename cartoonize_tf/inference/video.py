"""Cartoonizing videos with PyAV: frames decoded, cartoonized one by one, encoded; sound copied.

The cartoonizer is any callable from frame to cartoon; with `steady` (a `steady.SteadyFrames`,
`cartoonize video`'s default) each cartoon is held to the previous one.

- The output has the source's frame rate, frame count and size (unless `max_side` caps it;
  odd sides lose their last row or column, as 4:2:0 video needs even sides).
- Video goes out as H.264 (`libx264`) when PyAV's FFmpeg has it, else MPEG-4 Part 2.
- The first audio stream is copied packet by packet, not re-encoded; only a codec the
  MP4/MOV muxer cannot hold (Vorbis from a WebM, say) is re-encoded to AAC.
- The file is written under a temporary name beside the output and renamed when complete.

Frames run one at a time: on a 2-core CPU a batch of four 1280x720 frames was no faster than
four single frames (0.185 against 0.196 frames/s), and one at a time keeps memory at one frame
and lets the Cartoonizer tile large frames. What follows the model (the steady step, encoding,
the sound) runs on a thread of its own, overlapping the next frame's model run.
"""

import collections
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from tqdm import tqdm

from cartoonize_tf.inference.options import (
    VIDEO_CODECS,
    VIDEO_MAX_PIXELS,
    VIDEO_MIN_SIDE,
    VIDEO_OUTPUT_FORMATS,
)
from cartoonize_tf.utils.files import atomic_output

logger = logging.getLogger(__name__)

# Frames cartoonized and not yet written, at most (each holds a frame and its cartoon).
FRAMES_IN_FLIGHT = 2

# Audio codecs the MP4 and MOV muxers take as they are; any other is re-encoded to AAC.
MP4_AUDIO_CODECS = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}
# libx264's constant quality (0 lossless, 18 about visually lossless, 23 its default).
X264_CRF = "18"
# Frame rate assumed when a stream states none.
FALLBACK_RATE = Fraction(25)


class VideoReadError(ValueError):
    """A file could not be read as a video; the message names the file and why."""


@dataclass
class VideoReport:
    frames: int
    seconds: float
    size: tuple  # (width, height) written
    rate: Fraction
    codec: str
    audio: str  # "copied (aac)", "re-encoded (vorbis -> aac)" or "none"

    def summary(self):
        speed = self.frames / self.seconds if self.seconds else 0.0
        return (f"{self.frames} frames at {self.size[0]}x{self.size[1]}, {float(self.rate):.3g} "
                f"frames/s, {self.codec}; audio {self.audio}; {self.seconds:.1f} s "
                f"({speed:.2f} frames/s)")


def pick_video_codec(name=None):
    """`name` if PyAV's FFmpeg can encode it, else the first of `VIDEO_CODECS` it can."""
    for candidate in (name,) if name else VIDEO_CODECS:
        try:
            av.Codec(candidate, "w")
            return candidate
        except (av.FFmpegError, ValueError):
            continue
    raise ValueError(f"PyAV's FFmpeg has no {name or ' or '.join(VIDEO_CODECS)} encoder")


def output_size(width, height, max_side=None):
    """(width, height) to encode: scaled so the longer side is at most `max_side`, sides even."""
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
        width, height = max(round(width * scale), 2), max(round(height * scale), 2)
    return width - width % 2, height - height % 2


def fit_frame(rgb, size):
    """The decoded frame at the output size: area-resampled if smaller, then cropped to even."""
    width, height = size
    if rgb.shape[1] - rgb.shape[1] % 2 != width or rgb.shape[0] - rgb.shape[0] % 2 != height:
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[:height, :width])


def open_video(path):
    """`(container, video stream, first audio stream or None)`; raises `VideoReadError`."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise VideoReadError(f"cannot read {path} as a video: {error}") from None
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"{path} holds no video stream")
    video = container.streams.video[0]
    video.thread_type = "AUTO"
    audio = container.streams.audio[0] if container.streams.audio else None
    return container, video, audio


def read_frames(path):
    """The frames of `path`'s first video stream as uint8 RGB arrays (for tests and measures)."""
    container, video, _ = open_video(path)
    with container:
        for frame in container.decode(video):
            yield frame.to_ndarray(format="rgb24")


def check_paths(source, destination):
    """Refuses writing onto the input; raises ValueError with one line."""
    source, destination = Path(source), Path(destination)
    if source.resolve() == destination.resolve() or (
            destination.exists() and source.exists() and destination.samefile(source)):
        raise ValueError(f"the output {destination} is the input; choose another name")
    if destination.suffix.lower() not in VIDEO_OUTPUT_FORMATS:
        raise ValueError(f"the output must end in one of {', '.join(VIDEO_OUTPUT_FORMATS)}, "
                         f"got {destination.name!r}")


class VideoWriter:
    """The output container: a video encoder, and the audio copied (or re-encoded) into it."""

    def __init__(self, output, video_format, size, rate, codec, audio_source):
        self.output = output
        self.stream = output.add_stream(codec, rate=rate)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            self.stream.options = {"crf": X264_CRF}
        else:
            self.stream.bit_rate = int(size[0] * size[1] * float(rate) * 0.3)
        self.time_base = Fraction(1) / rate
        self.last_pts = -1
        self.audio_in = audio_source
        self.audio_out = self.audio_encoder = None
        self.audio = "none"
        if audio_source is not None:
            name = audio_source.codec_context.name
            if video_format == "matroska" or name in MP4_AUDIO_CODECS:
                self.audio_out = output.add_stream_from_template(audio_source)
                self.audio = f"copied ({name})"
            else:
                self.audio_encoder = output.add_stream("aac", rate=audio_source.rate)
                self.audio_out = self.audio_encoder
                self.audio = f"re-encoded ({name} -> aac)"
                logger.warning("the %s container cannot hold %s audio; re-encoding it to AAC",
                            video_format, name)

    def write_frame(self, rgb, source_frame):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        pts = self.last_pts + 1
        if source_frame.pts is not None and source_frame.time_base:
            pts = max(round(source_frame.pts * source_frame.time_base / self.time_base), pts)
        frame.pts, frame.time_base = pts, self.time_base
        self.last_pts = pts
        self.output.mux(self.stream.encode(frame))

    def write_audio(self, packet):
        if self.audio_encoder is not None:
            for frame in packet.decode():
                frame.pts = None
                self.output.mux(self.audio_encoder.encode(frame))
        elif packet.dts is not None:
            packet.stream = self.audio_out
            self.output.mux(packet)

    def close(self):
        self.output.mux(self.stream.encode(None))
        if self.audio_encoder is not None:
            self.output.mux(self.audio_encoder.encode(None))


def check_frame_size(source, width, height, max_pixels):
    """Refuses frames that are too small to encode or larger than `max_pixels` (VideoReadError)."""
    if not width or not height:
        raise VideoReadError(f"{source}: the video stream has no frame size")
    if width * height > max_pixels:
        raise VideoReadError(f"{source}: frames of {width}x{height} have {width * height:,} "
                             f"pixels; the limit is {max_pixels:,} (raise --max-pixels)")
    if min(width, height) < VIDEO_MIN_SIDE:
        raise VideoReadError(f"{source}: frames of {width}x{height} are too small; a video "
                             f"needs at least {VIDEO_MIN_SIDE} pixels on each side")


class Finisher:
    """What follows the model, in order, on one thread of its own: the steady step (if any),
    encoding and the sound. `hand_over` queues a step, waiting while FRAMES_IN_FLIGHT are
    queued already; `finish` waits for them all. A step's error comes out of the call that
    waits for it."""

    def __init__(self, writer, steady=None):
        self.writer, self.steady = writer, steady
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="video-writer")
        self.pending = collections.deque()

    def hand_over(self, step, *args):
        self.pending.append(self.thread.submit(step, *args))
        while len(self.pending) > FRAMES_IN_FLIGHT:
            self.pending.popleft().result()

    def frame(self, rgb, cartoon, source_frame):
        self.hand_over(self.write_frame, rgb, cartoon, source_frame)

    def audio(self, packet):
        self.hand_over(self.writer.write_audio, packet)

    def write_frame(self, rgb, cartoon, source_frame):
        self.writer.write_frame(cartoon if self.steady is None else self.steady(rgb, cartoon),
                                source_frame)

    def finish(self):
        while self.pending:
            self.pending.popleft().result()

    def close(self):
        self.thread.shutdown(wait=True, cancel_futures=True)


def cartoonize_video(cartoonize, source, destination, max_side=None, codec=None, progress=True,
                     max_pixels=VIDEO_MAX_PIXELS, steady=None):
    """Writes the cartoon of video `source` to `destination` (.mp4, .mov or .mkv).

    Args:
        cartoonize: uint8 RGB `[H, W, 3]` -> uint8 RGB of the same shape, called on the frames
            in order (a `Cartoonizer`'s `cartoonize` with size_policy "full").
        max_side: scale frames down so that their longer side is at most this, before
            cartoonizing; None keeps the source size.
        codec: a video encoder name; None picks the first of `VIDEO_CODECS` available.
        progress: show a tqdm bar (frames, frames/s) on stderr.
        max_pixels: the largest source frame (width * height) read, checked from the
            stream's header and again on every decoded frame, before its pixels are converted.
        steady: a `steady.SteadyFrames` that holds each cartoon to the previous one (on the
            writing thread, while the model runs on the next frame); None: per frame.

    Returns a `VideoReport`. Raises `VideoReadError` for an unreadable input, ValueError for
    a bad destination; no partial output is left either way.
    """
    check_paths(source, destination)
    codec = pick_video_codec(codec)
    video_format = VIDEO_OUTPUT_FORMATS[Path(destination).suffix.lower()]
    container, video, audio = open_video(source)
    with container:
        width, height = video.codec_context.width, video.codec_context.height
        check_frame_size(source, width, height, max_pixels)
        size = output_size(width, height, max_side)
        if size != (width, height):
            logger.info("frames of %dx%d are written at %dx%d", width, height, *size)
        rate = video.average_rate or video.guessed_rate or FALLBACK_RATE
        seconds = (video.duration * video.time_base if video.duration
                   else container.duration / av.time_base if container.duration else None)
        total = video.frames or (round(float(seconds * rate)) if seconds else None)
        streams = [video] + ([audio] if audio is not None else [])
        started, frames = time.perf_counter(), 0
        with atomic_output(destination) as temporary, \
                av.open(str(temporary), "w", format=video_format) as output, \
                tqdm(total=total, unit="frame", disable=not progress, desc="frames") as bar:
            writer = VideoWriter(output, video_format, size, rate, codec, audio)
            finisher = Finisher(writer, steady)
            try:
                for packet in container.demux(*streams):
                    if packet.stream.type == "audio":
                        finisher.audio(packet)
                        continue
                    for frame in packet.decode():
                        check_frame_size(source, frame.width, frame.height, max_pixels)
                        rgb = fit_frame(frame.to_ndarray(format="rgb24"), size)
                        cartoon = cartoonize(rgb)
                        if cartoon.shape != rgb.shape:
                            raise ValueError(f"the cartoonizer changed the frame's shape from "
                                             f"{rgb.shape} to {cartoon.shape}; use size_policy "
                                             "'full'")
                        finisher.frame(rgb, cartoon, frame)
                        frames += 1
                        bar.update()
                finisher.finish()
                writer.close()
            except av.FFmpegError as error:
                raise VideoReadError(f"{source}: {error}") from None
            finally:
                finisher.close()
            if frames == 0:
                raise VideoReadError(f"{source}: no frame could be decoded")
    return VideoReport(frames, time.perf_counter() - started, size, rate, codec, writer.audio)
