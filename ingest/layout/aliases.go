package layout

// ParseVocabulary returns the built-in phase words plus the aliases given as
// WORD=PHASE[:INTERVAL] (see ParsePhaseAlias), as a practice configures
// them.
func ParseVocabulary(aliases []string) (*Vocabulary, error) {
	var as []Alias
	for _, s := range aliases {
		a, err := ParsePhaseAlias(s)
		if err != nil {
			return nil, err
		}
		as = append(as, a)
	}
	return NewVocabulary(as...)
}
