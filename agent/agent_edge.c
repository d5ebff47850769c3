/* agent_edge.c: parses the controller's "edge" event (trigger-edge record) into struct bl_edge. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bl_join.h"

static bool get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != floor(v->valuedouble))
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

static double get_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int get_int(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

static void get_str(const cJSON *o, const char *key, char *out, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static uint32_t parse_flags(const cJSON *a)
{
	static const char *const names[] = {"off_time", "shifted", "extra", "no_sample",
					    "no_print"};
	uint32_t f = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (cJSON_IsString(it) && !strcmp(it->valuestring, names[i]))
				f |= 1u << i;
	}
	return f;
}

static void parse_print(const cJSON *x, struct bl_edge_print *p)
{
	p->run = get_int(x, "run", 0);
	get_str(x, "label", p->label, sizeof(p->label));
	get_str(x, "mode", p->mode, sizeof(p->mode));
	p->film_mm = get_num(x, "film_mm", NAN);
	p->axis_mm = get_num(x, "axis_mm", NAN);
	p->since_coat_s = get_num(x, "since_coat_s", NAN);
	p->flow_ul_min = get_num(x, "flow_ul_min", NAN);
	p->speed_mm_s = get_num(x, "speed_mm_s", NAN);
	p->coated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "coated"));
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(x, "temp_c"), *it;
	p->nheaters = 0;
	cJSON_ArrayForEach(it, tc)
	{
		if (p->nheaters < BL_EDGE_MAX_HEATERS && cJSON_IsNumber(it))
			p->temp_c[p->nheaters++] = it->valuedouble;
	}
}

int bl_edge_parse(const cJSON *o, struct bl_edge *e)
{
	memset(e, 0, sizeof(*e));
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	if (!cJSON_IsObject(o) || !get_u64(o, "series", &e->series) || !cJSON_IsString(kind))
		return -EBADMSG;
	if (!strcmp(kind->valuestring, "frame"))
		e->kind = BL_EDGE_FRAME;
	else if (!strcmp(kind->valuestring, "missing"))
		e->kind = BL_EDGE_MISSING;
	else if (!strcmp(kind->valuestring, "cut"))
		e->kind = BL_EDGE_CUT;
	else
		return -EBADMSG;
	e->has_frame = get_u64(o, "frame", &e->frame);
	if (e->kind == BL_EDGE_FRAME && (!e->has_frame || !get_u64(o, "t", &e->t)))
		return -EBADMSG;
	get_u64(o, "prog", &e->prog);
	e->flags = parse_flags(cJSON_GetObjectItemCaseSensitive(o, "flags"));
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sample");
	if (cJSON_IsObject(s)) {
		e->has_sample = true;
		e->sample = get_int(s, "sample", -1);
		e->puck = get_int(s, "puck", -1);
		e->slot = get_int(s, "slot", -1);
		get_str(s, "barcode", e->barcode, sizeof(e->barcode));
	}
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "print");
	if (cJSON_IsObject(p)) {
		e->has_print = true;
		parse_print(p, &e->print);
	}
	e->untagged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "untagged")) ||
		      (!e->has_sample && !e->has_print);
	return 0;
}
