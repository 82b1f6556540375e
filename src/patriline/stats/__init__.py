"""Match statistics: mutation model, haplotype frequencies, relatedness LRs, TMRCA."""
