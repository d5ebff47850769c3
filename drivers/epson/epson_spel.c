/* epson_spel.c: parser and formatter for the SPEL+ statement subset in epson_spel.h. A few fixed
 * statement shapes, so a small hand-written scanner is enough. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "epson_spel.h"

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Reads a keyword (letters) into KW; returns the position after it. */
static const char *keyword(const char *s, char *kw, size_t cap)
{
	size_t n = 0;
	s = skip_ws(s);
	while (isalpha((unsigned char)*s) && n + 1 < cap)
		kw[n++] = *s++;
	kw[n] = 0;
	return s;
}

static const char *number(const char *s, double *v)
{
	char *end;
	s = skip_ws(s);
	if (!*s)
		return NULL;
	*v = strtod(s, &end);
	if (end == s || !isfinite(*v))
		return NULL;
	return end;
}

static const char *expect(const char *s, char c)
{
	s = skip_ws(s);
	return *s == c ? s + 1 : NULL;
}

static int finish(const char *s)
{
	if (!s)
		return -EINVAL;
	s = skip_ws(s);
	return *s ? -EINVAL : 0;
}

static int parse_point(const char *s, struct bl_point *p)
{
	char kw[8];
	s = keyword(s, kw, sizeof(kw));
	if (strcasecmp(kw, "XY") || !(s = expect(s, '(')))
		return -EINVAL;
	double *v[4] = {&p->x, &p->y, &p->z, &p->u};
	for (int i = 0; i < 4; i++) {
		if (!(s = number(s, v[i])))
			return -EINVAL;
		if (!(s = expect(s, i < 3 ? ',' : ')')))
			return -EINVAL;
	}
	return finish(s);
}

int bl_spel_parse(const char *s, struct bl_spel_stmt *st)
{
	static const struct {
		const char *kw;
		enum bl_spel_kind kind;
	} kws[] = {{"Go", BL_SPEL_GO},	       {"Move", BL_SPEL_MOVE},	 {"Jump", BL_SPEL_JUMP},
		   {"On", BL_SPEL_ON},	       {"Off", BL_SPEL_OFF},	 {"Speed", BL_SPEL_SPEED},
		   {"SpeedS", BL_SPEL_SPEEDS}, {"Accel", BL_SPEL_ACCEL}, {"Wait", BL_SPEL_WAIT}};
	char kw[16];
	const char *p = keyword(s, kw, sizeof(kw));
	size_t i;
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (!strcasecmp(kw, kws[i].kw))
			break;
	if (i == sizeof(kws) / sizeof(kws[0]) || (*p && *p != ' ' && *p != '\t'))
		return -EINVAL;
	*st = (struct bl_spel_stmt){.kind = kws[i].kind};
	switch (st->kind) {
	case BL_SPEL_GO:
	case BL_SPEL_MOVE:
	case BL_SPEL_JUMP: return parse_point(p, &st->p);
	case BL_SPEL_ON:
	case BL_SPEL_OFF: {
		double b;
		if (!(p = number(p, &b)) || b < 0 || b > 511 || b != floor(b))
			return -EINVAL;
		st->bit = (int)b;
		return finish(p);
	}
	case BL_SPEL_SPEED:
	case BL_SPEL_SPEEDS:
	case BL_SPEL_WAIT:
		if (!(p = number(p, &st->value[0])) || st->value[0] < 0)
			return -EINVAL;
		if (st->kind == BL_SPEL_SPEED && (st->value[0] < 1 || st->value[0] > 100))
			return -EINVAL;
		if (st->kind == BL_SPEL_SPEEDS && st->value[0] <= 0)
			return -EINVAL;
		return finish(p);
	case BL_SPEL_ACCEL:
		if (!(p = number(p, &st->value[0])) || !(p = expect(p, ',')) ||
		    !(p = number(p, &st->value[1])))
			return -EINVAL;
		if (st->value[0] < 1 || st->value[0] > 100 || st->value[1] < 1 ||
		    st->value[1] > 100)
			return -EINVAL;
		return finish(p);
	}
	return -EINVAL;
}

int bl_spel_format_motion(char *buf, size_t cap, enum bl_spel_kind kind, const struct bl_point *p)
{
	const char *kw = kind == BL_SPEL_GO ? "Go" : kind == BL_SPEL_MOVE ? "Move" : "Jump";
	if (kind != BL_SPEL_GO && kind != BL_SPEL_MOVE && kind != BL_SPEL_JUMP)
		return -EINVAL;
	int n = snprintf(buf, cap, "%s XY(%.3f,%.3f,%.3f,%.3f)", kw, p->x, p->y, p->z, p->u);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
