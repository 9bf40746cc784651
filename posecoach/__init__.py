"""posecoach: a live posing and expression coach that runs on your own machine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("posecoach")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
