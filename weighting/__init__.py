"""popsurvey.weighting: survey designs, weights, variance and indicators."""
