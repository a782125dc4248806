"""Spatio-temporal exploration: kernel density evolution, global and local Moran's I,
maps.
"""
