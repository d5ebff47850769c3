/* schema.c: walks a YAML tree against field tables, rejecting unknown, missing and out-of-range
 * values.
 *
 * Why by hand: libyaml does the parsing; libcyaml could map simple schemas but reports neither
 * file:line for semantic errors nor works on the merged tree a site override produces. */
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_schema_error(struct bl_hwdb_errors *errs, const char *file, int line, const char *path,
		     const char *fmt, ...)
{
	errs->count++;
	if (errs->count > BL_HWDB_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	char *m = errs->msg[errs->count - 1];
	size_t cap = sizeof(errs->msg[0]);
	int n = path && *path ? snprintf(m, cap, "%s:%d: %s: ", file, line, path)
			      : snprintf(m, cap, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

static bool bounded(const struct bl_field *f)
{
	return !(f->min == 0 && f->max == 0);
}

static const char *kind_name(const struct bl_ynode *y)
{
	return y->kind == BL_YMAP ? "a mapping" : y->kind == BL_YSEQ ? "a sequence" : "a scalar";
}

static int parse_double(const struct bl_ynode *y, const struct bl_field *f, const char *path,
			double *out, struct bl_hwdb_errors *e)
{
	if (y->kind != BL_YSCALAR || y->quoted) {
		bl_schema_error(e, y->file, y->line, path, "expected a number, got %s",
				y->kind == BL_YSCALAR ? "a quoted string" : kind_name(y));
		return 1;
	}
	char *end;
	errno = 0;
	double v = strtod(y->text, &end);
	if (end == y->text || *end || errno || !isfinite(v)) {
		bl_schema_error(e, y->file, y->line, path, "'%s' is not a finite number", y->text);
		return 1;
	}
	if (bounded(f) && (v < f->min || v > f->max)) {
		bl_schema_error(e, y->file, y->line, path, "%s is out of range [%g, %g]", y->text,
				f->min, f->max);
		return 1;
	}
	*out = v;
	return 0;
}

static int parse_int(const struct bl_ynode *y, const struct bl_field *f, const char *path, int *out,
		     struct bl_hwdb_errors *e)
{
	if (y->kind != BL_YSCALAR || y->quoted) {
		bl_schema_error(e, y->file, y->line, path, "expected an integer, got %s",
				y->kind == BL_YSCALAR ? "a quoted string" : kind_name(y));
		return 1;
	}
	const char *s = y->text;
	bool hex = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, hex ? 16 : 10);
	if (end == s || *end || errno || v < INT32_MIN || v > INT32_MAX) {
		bl_schema_error(e, y->file, y->line, path, "'%s' is not an integer", s);
		return 1;
	}
	if (bounded(f) && ((double)v < f->min || (double)v > f->max)) {
		bl_schema_error(e, y->file, y->line, path, "%s is out of range [%g, %g]", s, f->min,
				f->max);
		return 1;
	}
	*out = (int)v;
	return 0;
}

/* Resolves \r \n \t \\ \0xNN-style escapes ("\x03") so protocol strings can be written in YAML. */
static int unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '\\': c = '\\'; break;
			case 'x': {
				char hx[3] = {0};
				if (!p[1] || !p[2])
					return -1;
				hx[0] = p[1];
				hx[1] = p[2];
				char *end;
				long v = strtol(hx, &end, 16);
				if (*end || v == 0)
					return -1;
				c = (char)v;
				p += 2;
				break;
			}
			default: return -1;
			}
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

static int parse_value(const struct bl_field *f, const struct bl_ynode *y, void *obj,
		       const char *path, struct bl_hwdb_errors *e);

/* Enums land in C enums (int-sized) or in bools (two-valued names such as ro/rw). */
static void set_enum(const struct bl_field *f, void *obj, int v)
{
	if (f->size == sizeof(bool))
		*AT(obj, f->off, bool) = v != 0;
	else
		*AT(obj, f->off, int) = v;
}

static int parse_vec(const struct bl_field *f, const struct bl_ynode *y, double *dst, size_t n,
		     const char *path, struct bl_hwdb_errors *e)
{
	if (y->kind != BL_YSEQ || y->n != n) {
		bl_schema_error(e, y->file, y->line, path, "expected a sequence of %zu numbers", n);
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += parse_double(y->items[i], f, path, &dst[i], e);
	return bad;
}

static int parse_seq(const struct bl_field *f, const struct bl_ynode *y, void *obj,
		     const char *path, struct bl_hwdb_errors *e)
{
	size_t *count = AT(obj, f->count_off, size_t);
	if (y->kind != BL_YSEQ) {
		bl_schema_error(e, y->file, y->line, path, "expected a sequence, got %s",
				kind_name(y));
		return 1;
	}
	if (y->n > f->cap) {
		bl_schema_error(e, y->file, y->line, path, "%zu entries, at most %zu allowed", y->n,
				f->cap);
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < y->n; i++) {
		char sub[256];
		const struct bl_ynode *nm = bl_ytree_get(y->items[i], "name");
		if (nm && nm->kind == BL_YSCALAR)
			snprintf(sub, sizeof(sub), "%s[%s]", path, nm->text);
		else
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		void *el = AT(obj, f->off + i * f->size, char);
		bad += parse_value(f->elem, y->items[i], el, sub, e);
	}
	*count = y->n;
	return bad;
}

static int parse_dict(const struct bl_field *f, const struct bl_ynode *y, void *obj,
		      const char *path, struct bl_hwdb_errors *e)
{
	size_t *count = AT(obj, f->count_off, size_t);
	if (y->kind != BL_YMAP) {
		bl_schema_error(e, y->file, y->line, path, "expected a mapping, got %s",
				kind_name(y));
		return 1;
	}
	if (y->n > f->cap) {
		bl_schema_error(e, y->file, y->line, path, "%zu entries, at most %zu allowed", y->n,
				f->cap);
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < y->n; i++) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", path, y->pairs[i].key);
		char *el = AT(obj, f->off + i * f->size, char);
		if (strlen(y->pairs[i].key) >= BL_HWDB_NAME_MAX) {
			bl_schema_error(e, y->pairs[i].value->file, y->pairs[i].key_line, sub,
					"name too long");
			bad++;
			continue;
		}
		strcpy(el, y->pairs[i].key);
		bad += parse_value(f->elem, y->pairs[i].value, el, sub, e);
	}
	*count = y->n;
	return bad;
}

/* Parses Y into the member of OBJ that F describes. */
static int parse_value(const struct bl_field *f, const struct bl_ynode *y, void *obj,
		       const char *path, struct bl_hwdb_errors *e)
{
	switch (f->type) {
	case BL_F_STR:
	case BL_F_ESTR: {
		if (y->kind != BL_YSCALAR) {
			bl_schema_error(e, y->file, y->line, path, "expected a string, got %s",
					kind_name(y));
			return 1;
		}
		char *dst = AT(obj, f->off, char);
		if (f->type == BL_F_ESTR) {
			if (unescape(y->text, dst, f->size) < 0) {
				bl_schema_error(e, y->file, y->line, path,
						"bad escape or longer than %zu bytes", f->size - 1);
				return 1;
			}
		} else {
			if (strlen(y->text) >= f->size) {
				bl_schema_error(e, y->file, y->line, path,
						"longer than %zu characters", f->size - 1);
				return 1;
			}
			strcpy(dst, y->text);
		}
		if ((f->flags & BL_F_REQUIRED) && !*dst) {
			bl_schema_error(e, y->file, y->line, path, "must not be empty");
			return 1;
		}
		return 0;
	}
	case BL_F_INT: return parse_int(y, f, path, AT(obj, f->off, int), e);
	case BL_F_DOUBLE: return parse_double(y, f, path, AT(obj, f->off, double), e);
	case BL_F_BOOL:
		if (y->kind == BL_YSCALAR && !y->quoted &&
		    (!strcmp(y->text, "true") || !strcmp(y->text, "false"))) {
			*AT(obj, f->off, bool) = !strcmp(y->text, "true");
			return 0;
		}
		bl_schema_error(e, y->file, y->line, path, "expected true or false");
		return 1;
	case BL_F_ENUM: {
		if (y->kind == BL_YSCALAR) {
			for (int i = 0; f->names[i]; i++) {
				if (!strcmp(f->names[i], y->text)) {
					set_enum(f, obj, i);
					return 0;
				}
			}
		}
		char opts[256] = "";
		for (int i = 0; f->names[i]; i++) {
			strncat(opts, i ? ", " : "", sizeof(opts) - strlen(opts) - 1);
			strncat(opts, f->names[i], sizeof(opts) - strlen(opts) - 1);
		}
		bl_schema_error(e, y->file, y->line, path, "'%s' is not one of: %s",
				y->kind == BL_YSCALAR ? y->text : "(not a scalar)", opts);
		return 1;
	}
	case BL_F_DVEC: return parse_vec(f, y, AT(obj, f->off, double), f->size, path, e);
	case BL_F_RANGE: {
		struct bl_range *r = AT(obj, f->off, struct bl_range);
		double v[2];
		int bad = parse_vec(f, y, v, 2, path, e);
		if (bad)
			return bad;
		if (v[0] > v[1]) {
			bl_schema_error(e, y->file, y->line, path,
					"range minimum %g above maximum %g", v[0], v[1]);
			return 1;
		}
		r->min = v[0];
		r->max = v[1];
		return 0;
	}
	case BL_F_STRUCT: return bl_schema_apply(f->sub, y, AT(obj, f->off, char), path, e);
	case BL_F_ARRAY: return parse_seq(f, y, obj, path, e);
	case BL_F_DICT: return parse_dict(f, y, obj, path, e);
	}
	return 1;
}

void bl_schema_defaults(const struct bl_schema *s, void *obj)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const struct bl_field *f = &s->fields[i];
		switch (f->type) {
		case BL_F_STR:
		case BL_F_ESTR:
			if (f->defs)
				snprintf(AT(obj, f->off, char), f->size, "%s", f->defs);
			break;
		case BL_F_INT: *AT(obj, f->off, int) = (int)f->def; break;
		case BL_F_ENUM: set_enum(f, obj, (int)f->def); break;
		case BL_F_DOUBLE: *AT(obj, f->off, double) = f->def; break;
		case BL_F_BOOL: *AT(obj, f->off, bool) = f->def != 0; break;
		case BL_F_STRUCT: bl_schema_defaults(f->sub, AT(obj, f->off, char)); break;
		default: break;
		}
	}
}

int bl_schema_apply(const struct bl_schema *s, const struct bl_ynode *y, void *obj,
		    const char *path, struct bl_hwdb_errors *e)
{
	bl_schema_defaults(s, obj);
	return bl_schema_apply_over(s, y, obj, path, e);
}

int bl_schema_apply_over(const struct bl_schema *s, const struct bl_ynode *y, void *obj,
			 const char *path, struct bl_hwdb_errors *e)
{
	if (y->kind != BL_YMAP) {
		bl_schema_error(e, y->file, y->line, path, "expected a mapping, got %s",
				kind_name(y));
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < y->n; i++) {
		const struct bl_ypair *p = &y->pairs[i];
		char sub[256];
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", p->key);
		const struct bl_field *f = NULL;
		for (size_t j = 0; j < s->nfields && !f; j++)
			if (!strcmp(s->fields[j].key, p->key))
				f = &s->fields[j];
		if (!f) {
			char opts[256] = "";
			for (size_t j = 0; j < s->nfields; j++) {
				strncat(opts, j ? ", " : "", sizeof(opts) - strlen(opts) - 1);
				strncat(opts, s->fields[j].key, sizeof(opts) - strlen(opts) - 1);
			}
			/* after a site override, a key may come from another file than its mapping
			 */
			bl_schema_error(e, p->value->file, p->key_line, sub,
					"unknown key (expected one of: %s)", opts);
			bad++;
			continue;
		}
		bad += parse_value(f, p->value, obj, sub, e);
		if (f->flags & BL_F_HAS)
			*AT(obj, f->has_off, bool) = true;
	}
	for (size_t j = 0; j < s->nfields; j++) {
		const struct bl_field *f = &s->fields[j];
		if ((f->flags & BL_F_REQUIRED) && !bl_ytree_get(y, f->key)) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", f->key);
			bl_schema_error(e, y->file, y->line, sub, "missing required key");
			bad++;
		}
	}
	return bad;
}
