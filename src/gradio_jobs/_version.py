"""The one source of gradio-jobs' version (the package, the user agent and the build read it here)."""

__version__ = "0.1.0"
