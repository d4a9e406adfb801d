package xmlsplice

import "testing"

// FuzzIndexNamespaces: whatever Index accepts, the namespace it resolved for each element while
// scanning (a scope kept as elements open and close) is the one LookupPrefix finds by walking the
// finished tree; seeded with redeclarations, resets and duplicate declarations.
func FuzzIndexNamespaces(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`<p:a xmlns:p="u1"><p:b xmlns:p="u2"><p:c/></p:b><p:d/></p:a>`))
	f.Add([]byte(`<a xmlns="u1"><b xmlns=""><c/></b><d xmlns="u2"/><e/></a>`))
	f.Add([]byte(`<p:a xmlns:p="u1" xmlns:p="u2" xmlns:q="u3"><q:b xmlns:q=""/><xml:c/></p:a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Index(data)
		if err != nil {
			return
		}
		checkSpaces(t, d)
	})
}
