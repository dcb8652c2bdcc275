"""The dashboards as a local, offline site: every dataset run on the local engines
(datasets.py), every visual turned into a Vega-Lite spec (charts.py), one page per dashboard
(site.py). QuickSight renders the same definitions in the cloud (stacks/dashboards.py)."""
