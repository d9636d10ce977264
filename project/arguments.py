"""Argument types shared by the management commands."""
import argparse


def positive_integer(text):
    """An argparse ``type``: a whole number of at least 1, or an error that names the input."""
    try:
        value = int(text)
    except ValueError:  # "abc", "1.5", "", and digits int() refuses such as "²"
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value
