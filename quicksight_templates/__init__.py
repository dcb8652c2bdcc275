"""The dashboards as data: one definition per dashboard, read by stacks/dashboards.py (QuickSight)
and by the local preview (local_platform/dashboards). A package of data and its model; it
imports no engine."""
