/* ytree.h: a YAML document as a small tree whose every node remembers its file and line. */
#ifndef BL_YTREE_H
#define BL_YTREE_H

#include <stddef.h>

enum bl_ynode_kind { BL_YSCALAR, BL_YMAP, BL_YSEQ };

struct bl_ynode;

/* One key: value pair of a mapping. */
struct bl_ypair {
	char *key;
	int key_line;
	struct bl_ynode *value;
};

struct bl_ynode {
	enum bl_ynode_kind kind;
	char *file; /* path of the file the node came from (owned) */
	int line;   /* 1-based */
	char *text; /* BL_YSCALAR: the scalar's text */
	int quoted; /* BL_YSCALAR: 1 if the scalar was quoted (always a string) */
	size_t n;   /* BL_YMAP: pairs; BL_YSEQ: items */
	struct bl_ypair *pairs;
	struct bl_ynode **items;
};

/* Callback used to report one problem ("file:line: message" is built by the caller). */
typedef void (*bl_yerr_fn)(void *ctx, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses FILE into a tree. Returns NULL after reporting through ERR on I/O or syntax errors
 * (with the line libyaml points at), duplicate keys, non-scalar keys, anchors and aliases. */
struct bl_ynode *bl_ytree_load(const char *file, bl_yerr_fn err, void *ctx);

/* Frees a tree made by bl_ytree_load (node and everything below it). */
void bl_ytree_free(struct bl_ynode *node);

/* Looks KEY up in a mapping; NULL when absent or NODE is not a mapping. */
struct bl_ynode *bl_ytree_get(const struct bl_ynode *node, const char *key);

/* Deep-merges OVER into BASE (BASE is modified, OVER is consumed and freed):
 * mappings merge key by key, sequences whose items are all mappings with a "name"
 * (or "id") key merge item by item, anything else is replaced by OVER's node. */
void bl_ytree_merge(struct bl_ynode *base, struct bl_ynode *over);

/* Deep copy of NODE. */
struct bl_ynode *bl_ytree_copy(const struct bl_ynode *node);

/* Removes KEY from mapping NODE and returns its value (caller frees); NULL if absent. */
struct bl_ynode *bl_ytree_take(struct bl_ynode *node, const char *key);

#endif
