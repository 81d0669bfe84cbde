"""The two incident demos (`pbx demo breach`, `pbx demo media-loss`): the seed notices
replayed end to end on the demo companies through the real services, one numbered step at
a time with its figures, ending with a summary table. A step that fails is marked and the
run exits non-zero."""
