"""Argument types shared by the management commands."""

import argparse


def positive_integer(maximum):
    """An argparse ``type``: a whole number from 1 to ``maximum``, or an error naming the input."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:  # "abc", "1.5", "", and digits int() refuses such as "²"
            value = 0
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {maximum:,}, not {text!r}")
        return value

    return parse
