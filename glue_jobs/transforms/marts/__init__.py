"""The marts build_marts computes, in the layers analytics engineers read top-down:

1. `prepared`: the source tables as the marts read them (the layer dbt calls staging);
2. `intermediate`: what several marts build on (placed orders, their lines and channels),
   computed once per run by glue_jobs.build_marts and passed in;
3. one module per mart family (`sales`, `funnel`, `customers`, `inventory`), and
   `customer_features`, the table the ML models train and score on.

Each layer reads only the layers above it; `common` holds the column helpers they share.
"""
