"""Simplicity bias: how often random networks, occam's relaxed grammar and the task grammar's
own PCFG compute each Boolean function, set against that function's minimal program under a
stated grammar (certified by the enumerator), against Valle-Pérez et al.'s Lempel-Ziv proxy and
against the table's entropy; and SGD's posterior against the Bayesian prior and occam's
posterior (`occam bias`, docs/bias.md)."""
