// Package libxml binds the few functions of the system libxml2 that Tagdíj needs: hardened parsing,
// W3C canonicalization (C14N 1.0, C14N 1.1, exclusive C14N 1.0, with and without comments, of whole
// documents and of element subtrees) and XML Schema validation.
//
// # Hardening
//
// Parse rejects any DOCTYPE (and so every DTD, entity declaration and external subset) before libxml2
// reads its body, never expands or loads entities, never touches the network (an external-entity loader
// that refuses everything is installed once, at package initialisation), accepts only UTF-8 and
// ISO-8859-2, refuses a NUL byte anywhere and anything but white space, comments and processing
// instructions after the root element (libxml2 2.9 would stop at a NUL and ignore the rest), and
// enforces Limits (input size, nesting depth, nodes, attributes per element and in all, tree nodes
// per byte of input, distinct names, text length) twice: first in a linear pre-scan over the raw
// bytes, so that hostile shapes are refused before libxml2 allocates anything for them, then inside
// the SAX callbacks as the tree is built, counting the same way. The tree-node budget is what keeps
// the memory of a parse proportional to the input whatever its shape (see Limits).
//
// # Streaming validation
//
// Parser.ValidateStream is the tree-less path for large business documents (a 100,000-member
// declaration): the same pre-scan, hardened parser and limit callbacks, with libxml2's XSD validator
// plugged into the SAX stream and a compact event record (elements, attributes, the text of elements
// without children) in place of the tree. Memory is the input plus about half of it; time is what
// `xmllint --sax --schema` takes.
//
// # etree and libxml2
//
// Documents are built and edited with github.com/beevik/etree; they are parsed, canonicalized and
// validated with libxml2. The one rule between the two is: bytes cross the boundary, pointers never do.
// An etree document is serialized once (etree's WriteTo) and the bytes are parsed here; nothing here
// hands a tree back, only bytes (canonical forms), which etree may parse again. Signing therefore
// canonicalizes exactly the bytes that will be written, and a verifier reads only the canonical bytes
// of what a signature covers. BenchmarkBoundary measures what one crossing costs.
//
// # Memory
//
// A Document owns C memory and must be closed; Close releases it at once. A cleanup attached to each
// Document is only a safety net for a missed Close, not the release mechanism. A Document is not safe
// for concurrent use; separate Documents and a compiled Schema may be used from many goroutines.
package libxml
