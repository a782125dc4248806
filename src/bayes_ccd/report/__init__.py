"""Outputs a researcher can paste into a paper.

Tables, figures, summaries, and output directories written all-or-nothing with the
metadata of the run that made them.
"""
