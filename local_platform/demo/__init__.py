"""The demo: the local pipeline as stages run in order, one module per stage.

pipeline.py lists the stages; each stage module takes the run's DemoSettings, does its work
and prints what it found. A new stage (ML, dashboards) is one more module and one more entry.
"""
