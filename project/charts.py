"""What the apps' server-side SVG charts share."""

import math


def tick_step(span, most=8):
    """The smallest 1, 2 or 5 times a power of ten that cuts ``span`` into at most ``most`` ticks."""
    power = 10 ** math.floor(math.log10(span / most))
    return next(power * m for m in (1, 2, 5, 10) if span / (power * m) <= most)


def axis(span):
    """Where an axis covering 0 to ``span`` ends, and its ticks: 0 and each step up to the end."""
    step = tick_step(span)
    count = math.ceil(span / step)
    return count * step, [n * step for n in range(count + 1)]
