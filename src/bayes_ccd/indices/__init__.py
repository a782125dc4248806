"""From indicators to the coupling coordination degree.

The indicator system, entropy weights, composite indices U1 and U2, and D with its
ten-level classification.
"""
