/* C side of package libxml: hardened parsing, canonicalization and XSD validation over libxml2.
 * Everything here works on one parser/validation context at a time and keeps no global state except
 * the external-entity loader installed once by tg_init. */
#ifndef TAGDIJ_LIBXML_SHIM_H
#define TAGDIJ_LIBXML_SHIM_H

#include <stdint.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/c14n.h>
#include <libxml/xmlschemas.h>

/* Failure kinds reported by tg_parse; mirrored by Kind in Go. */
enum { TG_OK = 0, TG_SYNTAX = 1, TG_FORBIDDEN = 2, TG_LIMIT = 3, TG_INTERNAL = 4 };

typedef struct {
	/* limits, set by the caller; 0 means "no limit" (never used by the Go side) */
	int max_depth;
	int max_attrs;
	long max_namespaces;
	int max_ns_scope;
	long max_nodes;
	long max_text;
	long max_total_attrs; /* attributes + namespace declarations in the document */
	long max_tree;        /* tree nodes, weighted as Limits.BaseTreeNodes says */
	long max_names;       /* dictionary entries beyond those of a fresh parser */
	/* running counters */
	int depth;
	long nodes;
	long namespaces;
	long text;
	long total_attrs;
	long tree;
	int dict_base;
	long names; /* dictionary entries beyond dict_base when parsing ended */
	/* first failure */
	int kind;
	int line;
	int col;
	char msg[320];
	/* the SAX2 handlers we wrap */
	startElementNsSAX2Func orig_start;
	endElementNsSAX2Func orig_end;
	charactersSAXFunc orig_chars;
	cdataBlockSAXFunc orig_cdata;
	commentSAXFunc orig_comment;
	processingInstructionSAXFunc orig_pi;
	/* tg_stream's record (a tg_events), NULL for tg_parse */
	void *events;
} tg_parse_state;

void tg_init(void);
xmlDocPtr tg_parse(const char *buf, int len, tg_parse_state *st);

/* Canonicalization of the subtree at root (NULL = whole document), leaving out the subtrees in exclude. */
int tg_c14n(xmlDocPtr doc, xmlNodePtr root, xmlNodePtr *exclude, int nexclude, int mode, int with_comments,
	xmlChar **inclusive_prefixes, uintptr_t writer);

/* XSD. Messages are collected in C, up to TG_MAX_PROBLEMS, then read by Go and freed. */
#define TG_MAX_PROBLEMS 64
typedef struct {
	int count;   /* problems recorded */
	int dropped; /* problems beyond TG_MAX_PROBLEMS */
	int line[TG_MAX_PROBLEMS];
	char *msg[TG_MAX_PROBLEMS];
} tg_problems;

xmlSchemaPtr tg_schema_compile(const char *buf, int len, tg_problems *p);
int tg_schema_validate(xmlSchemaPtr schema, xmlDocPtr doc, tg_problems *p);
void tg_problems_free(tg_problems *p);

/* Streaming validation (tg_stream): the record of a document, a sequence of events, each a kind byte
 * followed by unsigned varints (and bytes):
 *   TG_EV_NAME  len(uri) uri len(local) local   defines the next name index (0, 1, ...)
 *   TG_EV_START name line                        an element
 *   TG_EV_ATTR  name len(value) value            an attribute of the element just started
 *   TG_EV_TEXT  len(text) text                   character data of an element without child elements
 *   TG_EV_END                                    the end of the innermost element
 * Text between elements, comments and processing instructions are not recorded. */
enum { TG_EV_NAME = 1, TG_EV_START = 2, TG_EV_ATTR = 3, TG_EV_TEXT = 4, TG_EV_END = 5 };
#define TG_EV_MAX_NAMES 256
typedef struct {
	unsigned char *buf; /* the record, malloc'd */
	size_t len, cap;
	int oom;      /* an allocation failed */
	int stopped;  /* recording stopped: overflow */
	int overflow; /* more than TG_EV_MAX_NAMES names, or deeper than max_depth */
	const xmlChar *name_local[TG_EV_MAX_NAMES];
	const xmlChar *name_uri[TG_EV_MAX_NAMES];
	int nnames;
	int depth, max_depth;
	unsigned char *has_child; /* per depth: the element there has a child element */
	unsigned char *text;      /* character data of the innermost element so far */
	size_t tlen, tcap;
} tg_events;

/* tg_stream parses and validates without building a tree. It returns 0 for a valid document, 1 for a
 * well-formed one with validity problems (in p), -1 for a refused parse (in st). ev is the caller's,
 * zeroed; free it with tg_events_free whatever the result. */
int tg_stream(const char *buf, int len, tg_parse_state *st, xmlSchemaPtr schema, tg_problems *p, tg_events *ev);
void tg_events_free(tg_events *ev);

/* glibc heap in use, for leak tests. */
size_t tg_heap_in_use(void);

#endif
