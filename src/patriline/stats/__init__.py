"""Match statistics: mutation model, haplotype frequencies, relatedness LRs, TMRCA.

Modules (imported on use, so that ``import patriline.stats`` stays light):

* :mod:`patriline.stats.mutation` — stepwise mutation model (per-locus rates, Beta uncertainty);
* :mod:`patriline.stats.reference_set` — reference populations (a file or haplotypes);
* :mod:`patriline.stats.frequency` — counting (Clopper–Pearson), Brenner's kappa;
* :mod:`patriline.stats.dlmix` — discrete Laplace mixture (Andersen et al. 2013);
* :mod:`patriline.stats.relatedness` — ``likelihood_ratio``, Walsh (2001) TMRCA posteriors;
* :mod:`patriline.stats.summary` — every estimate at once, number of matching men;
* :mod:`patriline.stats.report` — the printable HTML case report.

See docs/statistics.md.
"""
