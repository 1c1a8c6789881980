"""Names the white-box code accepts, kept free of numpy and scikit-image so `--help` answers at once."""

# simple: SLIC with mean colours; adaptive: Felzenszwalb and selective-search grouping. Both as
# the authors compute them (on the BGR [-1, 1] array); the -rgb variants segment real RGB.
SUPERPIXEL_MODES = ("simple", "adaptive", "simple-rgb", "adaptive-rgb")
