/* ytree.c: loads YAML with libyaml into a line-annotated tree, and merges override files. */
#include "ytree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YTREE_MAX_DEPTH 64

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		fprintf(stderr, "beamloop: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xcalloc(n, 1);
	memcpy(p, s, n);
	return p;
}

static struct bl_ynode *node_new(enum bl_ynode_kind kind, const char *file, int line)
{
	struct bl_ynode *y = xcalloc(1, sizeof(*y));
	y->kind = kind;
	y->file = xstrdup(file);
	y->line = line;
	return y;
}

/* Converts libyaml's document node IDX; returns NULL after reporting. */
static struct bl_ynode *convert(yaml_document_t *doc, int idx, const char *file, int depth,
				bl_yerr_fn err, void *ctx)
{
	yaml_node_t *n = yaml_document_get_node(doc, idx);
	if (!n)
		return NULL;
	int line = (int)n->start_mark.line + 1;
	if (depth > YTREE_MAX_DEPTH) {
		err(ctx, file, line, "nesting deeper than %d levels (recursive alias?)",
		    YTREE_MAX_DEPTH);
		return NULL;
	}
	struct bl_ynode *y = NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		y = node_new(BL_YSCALAR, file, line);
		y->text = xcalloc(n->data.scalar.length + 1, 1);
		memcpy(y->text, n->data.scalar.value, n->data.scalar.length);
		if (strlen(y->text) != n->data.scalar.length) {
			err(ctx, file, line, "scalar contains a NUL character");
			bl_ytree_free(y);
			return NULL;
		}
		y->quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		return y;
	case YAML_SEQUENCE_NODE: {
		y = node_new(BL_YSEQ, file, line);
		size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		y->items = xcalloc(cnt, sizeof(*y->items));
		for (size_t i = 0; i < cnt; i++) {
			struct bl_ynode *c = convert(doc, n->data.sequence.items.start[i], file,
						     depth + 1, err, ctx);
			if (!c) {
				bl_ytree_free(y);
				return NULL;
			}
			y->items[y->n++] = c;
		}
		return y;
	}
	case YAML_MAPPING_NODE: {
		y = node_new(BL_YMAP, file, line);
		size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
		y->pairs = xcalloc(cnt, sizeof(*y->pairs));
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			int kline = k ? (int)k->start_mark.line + 1 : line;
			if (!k || k->type != YAML_SCALAR_NODE) {
				err(ctx, file, kline, "mapping key must be a plain scalar");
				bl_ytree_free(y);
				return NULL;
			}
			char *key = xcalloc(k->data.scalar.length + 1, 1);
			memcpy(key, k->data.scalar.value, k->data.scalar.length);
			if (bl_ytree_get(y, key)) {
				err(ctx, file, kline, "duplicate key '%s'", key);
				free(key);
				bl_ytree_free(y);
				return NULL;
			}
			struct bl_ynode *v = convert(doc, p->value, file, depth + 1, err, ctx);
			if (!v) {
				free(key);
				bl_ytree_free(y);
				return NULL;
			}
			y->pairs[y->n].key = key;
			y->pairs[y->n].key_line = kline;
			y->pairs[y->n].value = v;
			y->n++;
		}
		return y;
	}
	default: err(ctx, file, line, "unsupported YAML node"); return NULL;
	}
}

struct bl_ynode *bl_ytree_load(const char *file, bl_yerr_fn err, void *ctx)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		err(ctx, file, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	struct bl_ynode *root = NULL;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		err(ctx, file, 0, "cannot initialise YAML parser");
		return NULL;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		int line = (int)parser.problem_mark.line + 1;
		if (parser.context)
			err(ctx, file, line, "YAML syntax error: %s (%s that starts at line %d)",
			    parser.problem ? parser.problem : "unknown", parser.context,
			    (int)parser.context_mark.line + 1);
		else
			err(ctx, file, line, "YAML syntax error: %s",
			    parser.problem ? parser.problem : "unknown");
		goto out;
	}
	if (!yaml_document_get_root_node(&doc)) {
		err(ctx, file, 1, "file is empty");
		yaml_document_delete(&doc);
		goto out;
	}
	root = convert(&doc, 1, file, 0, err, ctx);
	yaml_document_delete(&doc);
	if (root) {
		/* A second document in the same file is almost always a mistake. */
		yaml_document_t extra;
		if (yaml_parser_load(&parser, &extra)) {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			if (r) {
				err(ctx, file, (int)r->start_mark.line + 1,
				    "more than one YAML document in file");
				bl_ytree_free(root);
				root = NULL;
			}
			yaml_document_delete(&extra);
		} else {
			err(ctx, file, (int)parser.problem_mark.line + 1, "YAML syntax error: %s",
			    parser.problem ? parser.problem : "unknown");
			bl_ytree_free(root);
			root = NULL;
		}
	}
out:
	yaml_parser_delete(&parser);
	fclose(f);
	return root;
}

void bl_ytree_free(struct bl_ynode *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->n; i++) {
		if (y->kind == BL_YMAP) {
			free(y->pairs[i].key);
			bl_ytree_free(y->pairs[i].value);
		} else if (y->kind == BL_YSEQ) {
			bl_ytree_free(y->items[i]);
		}
	}
	free(y->pairs);
	free(y->items);
	free(y->text);
	free(y->file);
	free(y);
}

struct bl_ynode *bl_ytree_get(const struct bl_ynode *y, const char *key)
{
	if (!y || y->kind != BL_YMAP)
		return NULL;
	for (size_t i = 0; i < y->n; i++)
		if (strcmp(y->pairs[i].key, key) == 0)
			return y->pairs[i].value;
	return NULL;
}

struct bl_ynode *bl_ytree_take(struct bl_ynode *y, const char *key)
{
	if (!y || y->kind != BL_YMAP)
		return NULL;
	for (size_t i = 0; i < y->n; i++) {
		if (strcmp(y->pairs[i].key, key) == 0) {
			struct bl_ynode *v = y->pairs[i].value;
			free(y->pairs[i].key);
			memmove(&y->pairs[i], &y->pairs[i + 1], (y->n - i - 1) * sizeof(*y->pairs));
			y->n--;
			return v;
		}
	}
	return NULL;
}

struct bl_ynode *bl_ytree_copy(const struct bl_ynode *y)
{
	struct bl_ynode *c = node_new(y->kind, y->file, y->line);
	c->quoted = y->quoted;
	if (y->text)
		c->text = xstrdup(y->text);
	if (y->kind == BL_YMAP) {
		c->pairs = xcalloc(y->n, sizeof(*c->pairs));
		for (size_t i = 0; i < y->n; i++) {
			c->pairs[i].key = xstrdup(y->pairs[i].key);
			c->pairs[i].key_line = y->pairs[i].key_line;
			c->pairs[i].value = bl_ytree_copy(y->pairs[i].value);
		}
	} else if (y->kind == BL_YSEQ) {
		c->items = xcalloc(y->n, sizeof(*c->items));
		for (size_t i = 0; i < y->n; i++)
			c->items[i] = bl_ytree_copy(y->items[i]);
	}
	c->n = y->n;
	return c;
}

/* The identity key of a sequence of mappings ("name" or "id"), or NULL if the items have none. */
static const char *seq_identity(const struct bl_ynode *s)
{
	static const char *const keys[] = {"name", "id"};
	if (s->kind != BL_YSEQ || s->n == 0)
		return NULL;
	for (size_t k = 0; k < 2; k++) {
		size_t i;
		for (i = 0; i < s->n; i++) {
			struct bl_ynode *v = bl_ytree_get(s->items[i], keys[k]);
			if (!v || v->kind != BL_YSCALAR)
				break;
		}
		if (i == s->n)
			return keys[k];
	}
	return NULL;
}

/* Moves the contents of SRC into DST (DST's old contents are freed); SRC's shell is freed. */
static void replace_node(struct bl_ynode *dst, struct bl_ynode *src)
{
	struct bl_ynode old = *dst;
	*dst = *src;
	free(src);
	/* free the old contents without freeing DST itself */
	struct bl_ynode *tmp = xcalloc(1, sizeof(*tmp));
	*tmp = old;
	bl_ytree_free(tmp);
}

static void append_item(struct bl_ynode *seq, struct bl_ynode *item)
{
	struct bl_ynode **items = realloc(seq->items, (seq->n + 1) * sizeof(*items));
	if (!items) {
		fprintf(stderr, "beamloop: out of memory\n");
		abort();
	}
	seq->items = items;
	seq->items[seq->n++] = item;
}

static void append_pair(struct bl_ynode *map, char *key, int key_line, struct bl_ynode *value)
{
	struct bl_ypair *pairs = realloc(map->pairs, (map->n + 1) * sizeof(*pairs));
	if (!pairs) {
		fprintf(stderr, "beamloop: out of memory\n");
		abort();
	}
	map->pairs = pairs;
	map->pairs[map->n].key = key;
	map->pairs[map->n].key_line = key_line;
	map->pairs[map->n].value = value;
	map->n++;
}

void bl_ytree_merge(struct bl_ynode *base, struct bl_ynode *over)
{
	if (base->kind == BL_YMAP && over->kind == BL_YMAP) {
		for (size_t i = 0; i < over->n; i++) {
			struct bl_ypair *p = &over->pairs[i];
			struct bl_ypair *bp = NULL;
			for (size_t j = 0; j < base->n && !bp; j++)
				if (!strcmp(base->pairs[j].key, p->key))
					bp = &base->pairs[j];
			if (!bp) {
				append_pair(base, p->key, p->key_line, p->value);
				continue;
			}
			/* a replaced value is reported at the override's key */
			if (p->value->kind == BL_YSCALAR || p->value->kind != bp->value->kind)
				bp->key_line = p->key_line;
			bl_ytree_merge(bp->value, p->value);
			free(p->key);
		}
		free(over->pairs);
		free(over->file);
		free(over);
		return;
	}
	const char *id = base->kind == BL_YSEQ ? seq_identity(base) : NULL;
	if (id && over->kind == BL_YSEQ && seq_identity(over) &&
	    strcmp(seq_identity(over), id) == 0) {
		for (size_t i = 0; i < over->n; i++) {
			const char *want = bl_ytree_get(over->items[i], id)->text;
			struct bl_ynode *match = NULL;
			for (size_t j = 0; j < base->n && !match; j++)
				if (strcmp(bl_ytree_get(base->items[j], id)->text, want) == 0)
					match = base->items[j];
			if (match)
				bl_ytree_merge(match, over->items[i]);
			else
				append_item(base, over->items[i]);
		}
		free(over->items);
		free(over->file);
		free(over);
		return;
	}
	replace_node(base, over);
}
