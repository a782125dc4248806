"""The data contract: panels, regions, spatial weights, factors and the bundled
(synthetic) demo data.
"""
