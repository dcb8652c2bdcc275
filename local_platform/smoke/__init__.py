"""`ecom smoke`: proves a deployed (or local) platform works, hop by hop, with one uniquely
tagged synthetic event: the collector takes it, it reaches the real-time tables, the batch
workflow and the scoring pipeline last ran to success, the warehouse answers the analysts'
first query and the dashboards exist.

`hops` runs checks and reports them; `local` and `aws` are the two sets of checks, each a
plain function over clients it is given, so tests drive them with real local engines or with
botocore's Stubber.
"""
