"""Randomized grid models for generic stakers (seed 004): a unique LightGBM model per staker, drawn from his
address and a nonce, gated on validation CORR, claimed once on chain (``GridRegistry``), trained, predicted and
submitted. Modules: ``space`` (the grid and its exact size), ``draw`` (the keccak draw and the configuration hash),
``gate`` (Numerai's CORR and the resampling sequence), ``data`` (Numerai's parquet data, the synthetic set),
``model`` (LightGBM training and prediction), ``manifest`` (one model's reproducible record), ``pipeline`` (draw,
gate, train and save together), ``diversify`` (k random models against one). The guide is docs/grid.md.
"""
