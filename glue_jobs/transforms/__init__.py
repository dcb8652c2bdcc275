"""Pure DataFrame -> DataFrame functions: no I/O, no clock, no session configuration.

Every job reads its inputs, calls these, and writes the results, so the same logic runs on
Glue and on a local SparkSession.
"""
