"""The data contract.

Panels, regions, spatial weights, factors and the bundled (synthetic) demo data.
"""
