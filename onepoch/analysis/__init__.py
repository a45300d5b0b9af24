"""The analysis layer: runs' curves -> tables, effects with intervals, verdicts, the ledger.

- `summary`, `factors`, `multi_epoch`: the numbers chapters state (drops, peaks, leaderboards);
- `stats`: effects with 95% intervals and the verdict decisions; `rules`: every bound and margin;
- `claims`: the paper's claims judged from measurements (`claim_texts`: their wording);
- `ledger`: storage of the rows; `ledger_page`: the reconciled ledger page.
- `run_cost`: what training the runs a chapter used cost (its Exercises lead), from their run records.
- chapter analyses, so a notebook only calls: `conditions`, `one_epoch_summary`, `one_epoch_text`
  (one_epoch), `remedy_tables` (beyond_one_epoch), `headline_text` (intro),
  `id_sparsity` (feature_sparsity), `causes`, `control_verdicts` (causal_controls), `mechanism`
  (why_second_epoch), `size_axis` (data_size), `phase_diagram`, `leaderboard_text` (beyond_one_epoch),
  `architectures`, `factors` (model_factors), `data_overview` (intro).

Import order has no cycle: rules <- stats <- claims -> ledger; ledger_page -> ledger, claim_texts, stats.
"""
