#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include "shim.h"
#include "_cgo_export.h"

/* No external resource is ever loaded: not a DTD, not an entity, not a schema import. */
static xmlParserInputPtr tg_no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt) {
	(void)id;
	if (ctxt != NULL) {
		tg_parse_state *st = (tg_parse_state *)ctxt->_private;
		if (st != NULL && st->kind == TG_OK) {
			st->kind = TG_FORBIDDEN;
			snprintf(st->msg, sizeof st->msg, "external resource refused: %s", url ? url : "(none)");
		}
	}
	return NULL;
}

/* libxml2 prints what no handler claims (canonicalization errors, errors while reading a schema
 * document) through its generic error function, to stderr by default. Every failure reaches Go
 * through a return value, so that output is only attacker-controlled noise in a server's log. The
 * handler is thread-local state in libxml2, so each entry point installs it on the thread it runs on. */
static void tg_silent(void *ctx, const char *msg, ...) {
	(void)ctx;
	(void)msg;
}

static void tg_quiet(void) {
	xmlSetGenericErrorFunc(NULL, tg_silent);
}

void tg_init(void) {
	xmlInitParser();
	xmlSetExternalEntityLoader(tg_no_loader);
	tg_quiet();
}

static void tg_fail(xmlParserCtxtPtr ctxt, int kind, const char *msg) {
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	if (st->kind == TG_OK) {
		st->kind = kind;
		st->line = xmlSAX2GetLineNumber(ctxt);
		st->col = xmlSAX2GetColumnNumber(ctxt);
		snprintf(st->msg, sizeof st->msg, "%s", msg);
	}
	xmlStopParser(ctxt);
}

/* tg_halt ends parsing after the first error, which already decides the outcome (the document is
 * refused with that error's message). libxml2 2.9 would otherwise go on after a fatal error and report
 * every later one, and some reports copy everything parsed so far in the current construct: each "--"
 * inside a comment strdup()s the whole comment up to that point ("Double hyphen within comment"), so a
 * 130 KB comment of hyphens took 2.7 s to refuse and 1 MB two to three minutes (quadratic).
 *
 * Not xmlStopParser: it frees the input buffer, and an error can be raised in the middle of building an
 * element (xmlSAX2StartElementNs reporting an xml:id that is not an NCName) while the attribute values
 * still to be copied point into that buffer: a use after free (seen with valgrind). This is what
 * libxml2 itself does when an allocation fails at an arbitrary point (xmlErrMemory): no more SAX
 * events, and every parsing loop ends at its next check of instate; the buffer lives until
 * xmlFreeParserCtxt. Set on every error, not only the first, because a construct that finishes restores
 * the state it saved (xmlParseComment). */
static void tg_halt(xmlParserCtxtPtr ctxt) {
	ctxt->instate = XML_PARSER_EOF;
	ctxt->disableSAX = 1;
}

static void tg_serror(void *data, xmlErrorPtr err) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)data;
	if (ctxt == NULL || err == NULL || err->level < XML_ERR_ERROR)
		return;
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	if (st == NULL)
		return;
	tg_halt(ctxt);
	if (st->kind != TG_OK)
		return;
	st->kind = TG_SYNTAX;
	st->line = err->line;
	st->col = err->int2;
	snprintf(st->msg, sizeof st->msg, "%s", err->message ? err->message : "malformed XML");
	size_t n = strlen(st->msg);
	while (n > 0 && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
		st->msg[--n] = 0;
}

static void tg_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid) {
	(void)name; (void)eid; (void)sid;
	tg_fail((xmlParserCtxtPtr)ctx, TG_FORBIDDEN, "DOCTYPE declarations are not accepted");
}

static void tg_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid, const xmlChar *sid,
	xmlChar *content) {
	(void)name; (void)type; (void)pid; (void)sid; (void)content;
	tg_fail((xmlParserCtxtPtr)ctx, TG_FORBIDDEN, "entity declarations are not accepted");
}

static xmlEntityPtr tg_get_entity(void *ctx, const xmlChar *name) {
	(void)name;
	tg_fail((xmlParserCtxtPtr)ctx, TG_FORBIDDEN, "entity references are not accepted");
	return NULL;
}

/* tg_count_tree counts n tree nodes (see Limits.BaseTreeNodes for the weights; the pre-scan counts
 * the same way, FuzzPrescanAgrees checks that). */
static int tg_count_tree(xmlParserCtxtPtr ctxt, long n) {
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	st->tree += n;
	if (st->tree > st->max_tree) {
		tg_fail(ctxt, TG_LIMIT, "too many tree nodes for the input size");
		return 0;
	}
	return 1;
}

/* tg_count_names checks the dictionary: every distinct name, namespace URI, xml:id value and interned
 * white-space run is one entry, and libxml2 2.9 looks them up in time growing with their number. */
static int tg_count_names(xmlParserCtxtPtr ctxt) {
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	if ((long)xmlDictSize(ctxt->dict) - st->dict_base > st->max_names) {
		tg_fail(ctxt, TG_LIMIT, "too many distinct names");
		return 0;
	}
	return 1;
}

/* tg_count_node counts an element, comment or PI, weighing tree tree nodes. */
static int tg_count_node(xmlParserCtxtPtr ctxt, long tree) {
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	if (++st->nodes > st->max_nodes) {
		tg_fail(ctxt, TG_LIMIT, "too many nodes");
		return 0;
	}
	st->text = 0;
	return tg_count_tree(ctxt, tree) && tg_count_names(ctxt);
}

static void tg_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI,
	int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
	const xmlChar **attributes) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	/* the element, and for each attribute or namespace declaration two tree nodes */
	if (!tg_count_node(ctxt, 1 + 2 * ((long)nb_attributes + nb_namespaces)))
		return;
	if (++st->depth > st->max_depth) {
		tg_fail(ctxt, TG_LIMIT, "elements nested too deeply");
		return;
	}
	if (nb_attributes + nb_namespaces > st->max_attrs) {
		tg_fail(ctxt, TG_LIMIT, "too many attributes on one element");
		return;
	}
	st->total_attrs += nb_attributes + nb_namespaces;
	if (st->total_attrs > st->max_total_attrs) {
		tg_fail(ctxt, TG_LIMIT, "too many attributes in the document");
		return;
	}
	st->namespaces += nb_namespaces;
	if (st->namespaces > st->max_namespaces) {
		tg_fail(ctxt, TG_LIMIT, "too many namespace declarations");
		return;
	}
	/* nsTab holds prefix/URI pairs of every declaration in scope, this element's included. */
	if (ctxt->nsNr / 2 > st->max_ns_scope) {
		tg_fail(ctxt, TG_LIMIT, "too many namespace declarations in scope");
		return;
	}
	st->orig_start(ctx, localname, prefix, URI, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
		attributes);
}

static void tg_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	st->depth--;
	st->text = 0;
	st->orig_end(ctx, localname, prefix, URI);
}

static int tg_count_text(xmlParserCtxtPtr ctxt, int len) {
	tg_parse_state *st = (tg_parse_state *)ctxt->_private;
	st->text += len;
	if (st->text > st->max_text) {
		tg_fail(ctxt, TG_LIMIT, "text node too long");
		return 0;
	}
	return 1;
}

/* tg_new_text reports whether xmlSAX2Text will allocate a node for characters of the given type rather
 * than append them to the current element's last child (the test it makes itself). */
static int tg_new_text(xmlParserCtxtPtr ctxt, xmlElementType type) {
	if (ctxt->node == NULL)
		return 0; /* outside the root element: libxml2 drops the characters */
	xmlNodePtr last = ctxt->node->last;
	if (last == NULL || last->type != type)
		return 1;
	return type == XML_TEXT_NODE && last->name != xmlStringText;
}

static void tg_chars(void *ctx, const xmlChar *ch, int len) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	if (!tg_count_text(ctxt, len))
		return;
	if (tg_new_text(ctxt, XML_TEXT_NODE) && !(tg_count_tree(ctxt, 1) && tg_count_names(ctxt)))
		return;
	((tg_parse_state *)ctxt->_private)->orig_chars(ctx, ch, len);
}

static void tg_cdata(void *ctx, const xmlChar *ch, int len) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	if (!tg_count_text(ctxt, len))
		return;
	/* the node and the copy of its text */
	if (tg_new_text(ctxt, XML_CDATA_SECTION_NODE) && !tg_count_tree(ctxt, 2))
		return;
	((tg_parse_state *)ctxt->_private)->orig_cdata(ctx, ch, len);
}

/* A comment or PI is a node and a copy of its text: two tree nodes. */
static void tg_comment(void *ctx, const xmlChar *value) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	if (tg_count_node(ctxt, 2))
		((tg_parse_state *)ctxt->_private)->orig_comment(ctx, value);
}

static void tg_pi(void *ctx, const xmlChar *target, const xmlChar *data) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	if (tg_count_node(ctxt, 2))
		((tg_parse_state *)ctxt->_private)->orig_pi(ctx, target, data);
}

typedef struct {
	const char *buf;
	int len;
	int pos;
} tg_reader;

static int tg_read(void *ctx, char *out, int n) {
	tg_reader *r = (tg_reader *)ctx;
	int left = r->len - r->pos;
	if (n > left)
		n = left;
	if (n <= 0)
		return 0;
	memcpy(out, r->buf + r->pos, (size_t)n);
	r->pos += n;
	return n;
}

/* tg_new_ctxt creates a hardened parser context reading rd, with the limit-counting callbacks installed
 * in front of libxml2's SAX2 tree builders (st->orig_*); tg_stream replaces those with its recorder.
 * The input is read through callbacks, in libxml2's own chunks, as xmllint reads a file, rather than
 * with xmlCreateMemoryParserCtxt: that copies the whole input first (libxml2 < 2.12), which for a
 * 40 MB declaration is 40 MB more peak memory and a memcpy faulting in every page of the copy. A
 * static in-place input buffer is no alternative in 2.9: it needs a NUL after the input, which a Go
 * slice does not have. The reader lives on the caller's stack frame, so buf is not used after return. */
static xmlParserCtxtPtr tg_new_ctxt(tg_reader *rd, tg_parse_state *st) {
	xmlParserCtxtPtr ctxt = xmlCreateIOParserCtxt(NULL, NULL, tg_read, NULL, rd, XML_CHAR_ENCODING_NONE);
	if (ctxt == NULL) {
		st->kind = TG_INTERNAL;
		snprintf(st->msg, sizeof st->msg, "cannot create parser context");
		return NULL;
	}
	/* HUGE lifts libxml2's own fixed caps (10 MB text, depth 256); our limits above replace them.
	 * No NOENT, DTDLOAD, DTDATTR or DTDVALID: nothing from a DTD is ever used.
	 * COMPACT (xmllint's default too) stores text shorter than 16 bytes inside its node instead of in a
	 * malloc'd string or the dictionary: most values and the indentation between elements of a
	 * declaration. That saves a malloc and a dictionary lookup per short text node, about 20% of the
	 * parse and most of xmlFreeDoc. Such a tree must not be modified, and nothing here modifies one:
	 * the package only reads, canonicalizes and validates. */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_COMPACT | XML_PARSE_HUGE | XML_PARSE_BIG_LINES | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ctxt->_private = st;
	xmlSAXHandlerPtr sax = ctxt->sax;
	sax->serror = tg_serror;
	sax->internalSubset = tg_internal_subset;
	sax->externalSubset = tg_internal_subset;
	sax->entityDecl = tg_entity_decl;
	sax->getEntity = tg_get_entity;
	sax->getParameterEntity = tg_get_entity;
	st->orig_start = sax->startElementNs;
	st->orig_end = sax->endElementNs;
	st->orig_chars = sax->characters;
	st->orig_cdata = sax->cdataBlock;
	st->orig_comment = sax->comment;
	st->orig_pi = sax->processingInstruction;
	sax->startElementNs = tg_start;
	sax->endElementNs = tg_end;
	sax->characters = tg_chars;
	sax->ignorableWhitespace = tg_chars;
	sax->cdataBlock = tg_cdata;
	sax->comment = tg_comment;
	sax->processingInstruction = tg_pi;

	/* xmlParseDocument interns these three first (xmlDetectSAX2); they are in every parse and not
	 * names of the document. */
	xmlDictLookup(ctxt->dict, BAD_CAST "xml", 3);
	xmlDictLookup(ctxt->dict, BAD_CAST "xmlns", 5);
	xmlDictLookup(ctxt->dict, XML_XML_NAMESPACE, -1);
	st->dict_base = xmlDictSize(ctxt->dict);
	return ctxt;
}

/* tg_parsed reports whether the parse that just ended accepted the input, recording why not in st. */
static int tg_parsed(xmlParserCtxtPtr ctxt, tg_reader *rd, tg_parse_state *st) {
	int ok = ctxt->wellFormed && st->kind == TG_OK;
	if (!ok && st->kind == TG_OK) {
		st->kind = TG_SYNTAX;
		snprintf(st->msg, sizeof st->msg, "malformed XML");
	}
	/* Names interned by the last callbacks (a white-space run before the last end tag). */
	st->names = (long)xmlDictSize(ctxt->dict) - st->dict_base;
	if (ok && !tg_count_names(ctxt))
		ok = 0;
	/* libxml2 2.9 takes a NUL byte for the end of the input and stops there without an error, ignoring
	 * the rest: "<a/>\0<b>anything</b>" parses as <a/>. Whatever it did not read, it did not check, so
	 * the document is refused unless every byte was read (by the reader), decoded (nothing left in the
	 * raw buffer) and consumed by the parser. */
	if (ok) {
		xmlParserInputPtr in = ctxt->input;
		int unread = rd->pos < rd->len;
		if (in != NULL) {
			if (in->cur != NULL && in->end != NULL && in->cur < in->end)
				unread = 1;
			if (in->buf != NULL && in->buf->raw != NULL && xmlBufUse(in->buf->raw) > 0)
				unread = 1;
		}
		if (unread) {
			ok = 0;
			st->kind = TG_SYNTAX;
			st->line = xmlSAX2GetLineNumber(ctxt);
			st->col = xmlSAX2GetColumnNumber(ctxt);
			snprintf(st->msg, sizeof st->msg, "content after the end of the document (a NUL byte?)");
		}
	}
	return ok;
}

xmlDocPtr tg_parse(const char *buf, int len, tg_parse_state *st) {
	tg_quiet();
	tg_reader rd = {buf, len, 0};
	xmlParserCtxtPtr ctxt = tg_new_ctxt(&rd, st);
	if (ctxt == NULL)
		return NULL;
	xmlParseDocument(ctxt);
	xmlDocPtr doc = ctxt->myDoc;
	int ok = tg_parsed(ctxt, &rd, st);
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	if (!ok) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* Visibility for document-subset canonicalization: a node is in the subset if it lies in root's subtree
 * and in none of the excluded subtrees. Namespace and attribute nodes belong to their element. */
typedef struct {
	xmlNodePtr root;
	xmlNodePtr *exclude;
	int nexclude;
} tg_subset;

static int tg_visible(void *user, xmlNodePtr node, xmlNodePtr parent) {
	tg_subset *s = (tg_subset *)user;
	xmlNodePtr n = node;
	if (node == NULL)
		return 0;
	if (node->type == XML_NAMESPACE_DECL)
		n = parent;
	for (xmlNodePtr p = n; p != NULL; p = p->parent) {
		for (int i = 0; i < s->nexclude; i++)
			if (p == s->exclude[i])
				return 0;
		if (p == s->root)
			return 1;
		if (p->type == XML_DOCUMENT_NODE)
			break;
	}
	return 0;
}

static int tg_write(void *ctx, const char *buf, int len) {
	return tgGoWrite((uintptr_t)ctx, (char *)buf, len);
}

static int tg_close(void *ctx) {
	(void)ctx;
	return 0;
}

int tg_c14n(xmlDocPtr doc, xmlNodePtr root, xmlNodePtr *exclude, int nexclude, int mode, int with_comments,
	xmlChar **inclusive_prefixes, uintptr_t writer) {
	tg_quiet();
	xmlOutputBufferPtr out = xmlOutputBufferCreateIO(tg_write, tg_close, (void *)writer, NULL);
	if (out == NULL)
		return -1;
	tg_subset s = {root, exclude, nexclude};
	int rc;
	if (root == NULL && nexclude == 0)
		rc = xmlC14NExecute(doc, NULL, NULL, mode, inclusive_prefixes, with_comments, out);
	else {
		if (root == NULL)
			s.root = (xmlNodePtr)doc;
		rc = xmlC14NExecute(doc, tg_visible, &s, mode, inclusive_prefixes, with_comments, out);
	}
	int crc = xmlOutputBufferClose(out);
	if (rc < 0 || crc < 0)
		return -1;
	return 0;
}

static void tg_problem(void *data, xmlErrorPtr err) {
	tg_problems *p = (tg_problems *)data;
	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (p->count >= TG_MAX_PROBLEMS) {
		p->dropped++;
		return;
	}
	p->line[p->count] = err->line;
	p->msg[p->count] = strdup(err->message ? err->message : "schema error");
	if (p->msg[p->count] != NULL) {
		size_t n = strlen(p->msg[p->count]);
		while (n > 0 && (p->msg[p->count][n - 1] == '\n' || p->msg[p->count][n - 1] == ' '))
			p->msg[p->count][--n] = 0;
	}
	p->count++;
}

xmlSchemaPtr tg_schema_compile(const char *buf, int len, tg_problems *p) {
	tg_quiet();
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(buf, len);
	if (pc == NULL)
		return NULL;
	xmlSchemaSetParserStructuredErrors(pc, tg_problem, p);
	/* Syntax errors in the schema document itself come from an XML parser the schema parser creates;
	 * only the thread's structured handler reaches them. Record them as problems too. */
	xmlSetStructuredErrorFunc(p, tg_problem);
	xmlSchemaPtr s = xmlSchemaParse(pc);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlSchemaFreeParserCtxt(pc);
	return s;
}

int tg_schema_validate(xmlSchemaPtr schema, xmlDocPtr doc, tg_problems *p) {
	tg_quiet();
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	if (vc == NULL)
		return -1;
	xmlSchemaSetValidStructuredErrors(vc, tg_problem, p);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	return rc;
}

void tg_problems_free(tg_problems *p) {
	for (int i = 0; i < p->count; i++)
		free(p->msg[i]);
	p->count = 0;
}

size_t tg_heap_in_use(void) {
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* ---- Streaming validation with an event record (tg_stream) ----
 *
 * The same hardened parser and limit callbacks as tg_parse, but no tree: libxml2's XSD validator is
 * plugged into the SAX stream (xmlSchemaSAXPlug, what xmlSchemaValidateStream and `xmllint --sax
 * --schema` do), and instead of the tree builders a recorder writes a compact record of the elements,
 * their attributes and the character data of elements without child elements (see tg_events in
 * shim.h for the encoding), of invalid documents too (their callers check what the validator left to
 * them, such as identity constraints, on every document). */

static int ev_grow(tg_events *ev, size_t n) {
	if (ev->oom)
		return 0;
	if (ev->len + n <= ev->cap)
		return 1;
	size_t cap = ev->cap ? ev->cap : 1 << 16;
	while (cap < ev->len + n)
		cap *= 2;
	unsigned char *b = realloc(ev->buf, cap);
	if (b == NULL) {
		ev->oom = 1;
		return 0;
	}
	ev->buf = b;
	ev->cap = cap;
	return 1;
}

static void ev_byte(tg_events *ev, unsigned char c) {
	if (ev_grow(ev, 1))
		ev->buf[ev->len++] = c;
}

static void ev_uvarint(tg_events *ev, unsigned long v) {
	if (!ev_grow(ev, 10))
		return;
	while (v >= 0x80) {
		ev->buf[ev->len++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	ev->buf[ev->len++] = (unsigned char)v;
}

static void ev_bytes(tg_events *ev, const xmlChar *p, size_t n) {
	ev_uvarint(ev, n);
	if (n > 0 && ev_grow(ev, n)) {
		memcpy(ev->buf + ev->len, p, n);
		ev->len += n;
	}
}

static size_t ev_strlen(const xmlChar *s) { return s == NULL ? 0 : strlen((const char *)s); }

/* ev_name returns the index of the name {uri}local, defining it in the record the first time. libxml2
 * interns names and namespace URIs in the parser's dictionary, so a name is its pair of pointers; a
 * pointer that is not interned would only define the same name twice, which the reader tolerates. */
static long ev_name(tg_events *ev, const xmlChar *local, const xmlChar *uri) {
	for (int i = 0; i < ev->nnames; i++)
		if (ev->name_local[i] == local && ev->name_uri[i] == uri)
			return i;
	if (ev->nnames >= TG_EV_MAX_NAMES) {
		ev->overflow = 1;
		ev->stopped = 1;
		return -1;
	}
	ev->name_local[ev->nnames] = local;
	ev->name_uri[ev->nnames] = uri;
	ev_byte(ev, TG_EV_NAME);
	ev_bytes(ev, uri, ev_strlen(uri));
	ev_bytes(ev, local, ev_strlen(local));
	return ev->nnames++;
}

/* ev_live reports whether recording goes on: not after an overflow or a failed allocation. */
static int ev_live(tg_events *ev) { return !ev->stopped && !ev->oom; }

static tg_events *ev_of(void *ctx) {
	return (tg_events *)((tg_parse_state *)((xmlParserCtxtPtr)ctx)->_private)->events;
}

static void ev_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI,
	int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
	const xmlChar **attributes) {
	(void)prefix; (void)nb_namespaces; (void)namespaces; (void)nb_defaulted;
	tg_events *ev = ev_of(ctx);
	if (!ev_live(ev))
		return;
	/* tg_start refused anything deeper than max_depth before calling here. */
	if (ev->depth > 0)
		ev->has_child[ev->depth] = 1;
	ev->depth++;
	if (ev->depth >= ev->max_depth) {
		ev->stopped = ev->overflow = 1;
		return;
	}
	ev->has_child[ev->depth] = 0;
	ev->tlen = 0;
	long name = ev_name(ev, localname, URI);
	if (name < 0)
		return;
	ev_byte(ev, TG_EV_START);
	ev_uvarint(ev, (unsigned long)name);
	ev_uvarint(ev, (unsigned long)xmlSAX2GetLineNumber((xmlParserCtxtPtr)ctx));
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = attributes + 5 * i;
		long an = ev_name(ev, a[0], a[2]);
		if (an < 0)
			return;
		ev_byte(ev, TG_EV_ATTR);
		ev_uvarint(ev, (unsigned long)an);
		/* libxml2 passes an ampersand in an attribute value as "&#38;" (its SAX2 tree builder decodes it
		 * again; xmlSchemaSAXHandleStartElementNs undoes it the same way). Every other reference is
		 * already replaced. */
		const xmlChar *v = a[3], *end = a[4];
		size_t n = (size_t)(end - v), out = 0;
		for (size_t k = 0; k < n; out++)
			k += (k + 4 < n && v[k] == '&' && v[k + 1] == '#' && v[k + 2] == '3' && v[k + 3] == '8' && v[k + 4] == ';') ? 5 : 1;
		ev_uvarint(ev, out);
		if (!ev_grow(ev, out))
			return;
		for (size_t k = 0; k < n;) {
			if (k + 4 < n && v[k] == '&' && v[k + 1] == '#' && v[k + 2] == '3' && v[k + 3] == '8' && v[k + 4] == ';') {
				ev->buf[ev->len++] = '&';
				k += 5;
			} else
				ev->buf[ev->len++] = v[k++];
		}
	}
}

static void ev_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI) {
	(void)localname; (void)prefix; (void)URI;
	tg_events *ev = ev_of(ctx);
	if (!ev_live(ev))
		return;
	if (!ev->has_child[ev->depth] && ev->tlen > 0) {
		ev_byte(ev, TG_EV_TEXT);
		ev_bytes(ev, ev->text, ev->tlen);
	}
	ev->tlen = 0;
	ev_byte(ev, TG_EV_END);
	ev->depth--;
}

/* ev_chars keeps the character data (text and CDATA) of the innermost element while it has no child
 * element: the value of a simple-typed element. Text between elements is dropped. */
static void ev_chars(void *ctx, const xmlChar *ch, int len) {
	tg_events *ev = ev_of(ctx);
	if (!ev_live(ev) || ev->depth == 0 || ev->has_child[ev->depth] || len <= 0)
		return;
	if (ev->tlen + (size_t)len > ev->tcap) {
		size_t cap = ev->tcap ? ev->tcap : 256;
		while (cap < ev->tlen + (size_t)len)
			cap *= 2;
		unsigned char *t = realloc(ev->text, cap);
		if (t == NULL) {
			ev->oom = 1;
			return;
		}
		ev->text = t;
		ev->tcap = cap;
	}
	memcpy(ev->text + ev->tlen, ch, (size_t)len);
	ev->tlen += (size_t)len;
}

static void ev_ignore(void *ctx, const xmlChar *a, const xmlChar *b) { (void)ctx; (void)a; (void)b; }
static void ev_ignore_comment(void *ctx, const xmlChar *a) { (void)ctx; (void)a; }

/* With the validator plugged in, the parser hands its error handler the plug, not the parser context,
 * as the data argument; the context is in the error itself. */
static void tg_stream_serror(void *data, xmlErrorPtr err) {
	(void)data;
	if (err == NULL || err->ctxt == NULL)
		return;
	switch (err->domain) {
	case XML_FROM_PARSER: case XML_FROM_NAMESPACE: case XML_FROM_IO: case XML_FROM_DTD: case XML_FROM_VALID:
		tg_serror(err->ctxt, err);
	}
}

static int tg_stream_locator(void *ctx, const char **file, unsigned long *line) {
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)ctx;
	if (file != NULL)
		*file = NULL;
	if (line != NULL)
		*line = (ctxt != NULL && ctxt->input != NULL) ? (unsigned long)ctxt->input->line : 0;
	return 0;
}

int tg_stream(const char *buf, int len, tg_parse_state *st, xmlSchemaPtr schema, tg_problems *p, tg_events *ev) {
	tg_quiet();
	ev->max_depth = st->max_depth + 2;
	ev->has_child = calloc((size_t)ev->max_depth, 1);
	if (ev->has_child == NULL) {
		st->kind = TG_INTERNAL;
		snprintf(st->msg, sizeof st->msg, "out of memory");
		return -1;
	}
	st->events = ev;
	tg_reader rd = {buf, len, 0};
	xmlParserCtxtPtr ctxt = tg_new_ctxt(&rd, st);
	if (ctxt == NULL)
		return -1;
	st->orig_start = ev_start;
	st->orig_end = ev_end;
	st->orig_chars = ev_chars;
	st->orig_cdata = ev_chars;
	st->orig_comment = ev_ignore_comment;
	st->orig_pi = ev_ignore;
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	if (vc == NULL) {
		xmlFreeParserCtxt(ctxt);
		st->kind = TG_INTERNAL;
		snprintf(st->msg, sizeof st->msg, "cannot create validation context");
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(vc, tg_problem, p);
	xmlSchemaValidateSetLocator(vc, tg_stream_locator, ctxt);
	xmlSchemaSAXPlugPtr plug = xmlSchemaSAXPlug(vc, &ctxt->sax, &ctxt->userData);
	if (plug == NULL) {
		xmlSchemaFreeValidCtxt(vc);
		xmlFreeParserCtxt(ctxt);
		st->kind = TG_INTERNAL;
		snprintf(st->msg, sizeof st->msg, "cannot plug the schema validator");
		return -1;
	}
	ctxt->sax->serror = tg_stream_serror;
	xmlParseDocument(ctxt);
	int valid = xmlSchemaIsValid(vc) == 1 && p->count + p->dropped == 0;
	xmlSchemaSAXUnplug(plug);
	int ok = tg_parsed(ctxt, &rd, st);
	/* xmlSAX2StartDocument still created the (empty) document node. */
	if (ctxt->myDoc != NULL) {
		xmlFreeDoc(ctxt->myDoc);
		ctxt->myDoc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	xmlSchemaFreeValidCtxt(vc);
	st->events = NULL;
	if (!ok)
		return -1;
	if (ev->oom) {
		st->kind = TG_INTERNAL;
		snprintf(st->msg, sizeof st->msg, "out of memory");
		return -1;
	}
	return valid ? 0 : 1;
}

void tg_events_free(tg_events *ev) {
	free(ev->buf);
	free(ev->text);
	free(ev->has_child);
	ev->buf = NULL;
	ev->text = NULL;
	ev->has_child = NULL;
	ev->len = ev->cap = ev->tlen = ev->tcap = 0;
}
