"""From a routine to a timeline: the plan of what is said, and its layout to the sample."""
