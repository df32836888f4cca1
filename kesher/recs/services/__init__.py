"""The recs part's writes: training, folding in a new member, evaluation, the brand's rules, the generator."""
