/* hwdb_load.c: loads a beamline file with its base and model files, then checks cross-references
 * and limits. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_hwdb.h"
#include "hwdb_schema.h"

#define MAX_BASE_DEPTH 8

struct loader {
	struct bl_hwdb_errors *errs;
	struct bl_ynode *model_trees[BL_HWDB_MAX_MODELS];
};

static void yerr(void *ctx, const char *file, int line, const char *fmt, ...)
{
	struct bl_hwdb_errors *e = ctx;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bl_schema_error(e, file, line, "", "%s", msg);
}

/* REL relative to the folder of the file FROM (absolute REL is kept). */
static void resolve_path(const char *from, const char *rel, char *out, size_t cap)
{
	if (rel[0] == '/') {
		snprintf(out, cap, "%s", rel);
		return;
	}
	char tmp[BL_HWDB_PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", from);
	snprintf(out, cap, "%s/%s", dirname(tmp), rel);
}

/* Loads PATH and, when it names a "base", the base beneath it (recursively). */
static struct bl_ynode *load_layered(const char *path, int depth, struct bl_hwdb_errors *e)
{
	struct bl_ynode *top = bl_ytree_load(path, yerr, e);
	if (!top)
		return NULL;
	struct bl_ynode *base_ref = bl_ytree_take(top, "base");
	if (!base_ref)
		return top;
	if (base_ref->kind != BL_YSCALAR || !*base_ref->text) {
		bl_schema_error(e, base_ref->file, base_ref->line, "base",
				"expected the path of a beamline file");
		goto fail;
	}
	if (depth >= MAX_BASE_DEPTH) {
		bl_schema_error(e, base_ref->file, base_ref->line, "base",
				"more than %d levels of base files (a cycle?)", MAX_BASE_DEPTH);
		goto fail;
	}
	char bpath[BL_HWDB_PATH_MAX];
	resolve_path(path, base_ref->text, bpath, sizeof(bpath));
	if (access(bpath, R_OK)) {
		bl_schema_error(e, base_ref->file, base_ref->line, "base", "cannot open '%s': %s",
				bpath, strerror(errno));
		goto fail;
	}
	struct bl_ynode *base = load_layered(bpath, depth + 1, e);
	if (!base)
		goto fail;
	if (base->kind != BL_YMAP || top->kind != BL_YMAP) {
		bl_schema_error(e, top->file, top->line, "", "a beamline file must be a mapping");
		bl_ytree_free(base);
		goto fail;
	}
	bl_ytree_free(base_ref);
	bl_ytree_merge(base, top);
	return base;
fail:
	bl_ytree_free(base_ref);
	bl_ytree_free(top);
	return NULL;
}

/* Line of KEY in MAP (the key's own line, where a person looks), or MAP's line if absent. */
static int line_of(const struct bl_ynode *map, const char *key)
{
	for (size_t i = 0; map->kind == BL_YMAP && i < map->n; i++)
		if (!strcmp(map->pairs[i].key, key))
			return map->pairs[i].key_line;
	return map->line;
}

static const char *file_of(const struct bl_ynode *map, const char *key)
{
	const struct bl_ynode *v = bl_ytree_get(map, key);
	return v ? v->file : map->file;
}

/* Problems a transport can have whatever the device: missing endpoint pieces. */
static int check_transport(const struct bl_hwdb_transport *t, const struct bl_ynode *node,
			   const char *path, struct bl_hwdb_errors *e)
{
	int bad = 0;
	char p[256];
	switch (t->kind) {
	case BL_TR_TCP:
	case BL_TR_HTTP:
	case BL_TR_MODBUS_TCP:
		if (!t->host[0] || !t->port) {
			snprintf(p, sizeof(p), "%s.%s", path, t->host[0] ? "port" : "host");
			bl_schema_error(e, node->file, node->line, p, "required for a %s transport",
					bl_hwdb_transport_name(t->kind));
			bad++;
		}
		break;
	case BL_TR_SERIAL:
	case BL_TR_MODBUS_RTU:
		if (!t->device[0]) {
			snprintf(p, sizeof(p), "%s.device", path);
			bl_schema_error(e, node->file, node->line, p, "required for a %s transport",
					bl_hwdb_transport_name(t->kind));
			bad++;
		}
		break;
	case BL_TR_USB:
		if (!t->usb_vid || !t->usb_pid) {
			snprintf(p, sizeof(p), "%s.usb_vid", path);
			bl_schema_error(e, node->file, node->line, p,
					"usb_vid and usb_pid are required for a usb transport");
			bad++;
		}
		break;
	}
	return bad;
}

/* Which transports each protocol can ride on (bit per enum bl_transport_kind). */
static unsigned proto_transports(enum bl_protocol p)
{
#define B(x) (1u << (x))
	switch (p) {
	case BL_PROTO_EPSON_RC: return B(BL_TR_TCP);
	case BL_PROTO_BARCODE_SERIAL: return B(BL_TR_SERIAL) | B(BL_TR_TCP);
	case BL_PROTO_BARCODE_HID: return B(BL_TR_USB);
	case BL_PROTO_NE1000: return B(BL_TR_SERIAL) | B(BL_TR_TCP);
	case BL_PROTO_MODBUS: return B(BL_TR_MODBUS_TCP) | B(BL_TR_MODBUS_RTU);
	case BL_PROTO_SIMPLON: return B(BL_TR_HTTP);
	case BL_PROTO_TBOX: return B(BL_TR_USB) | B(BL_TR_TCP);
	}
	return 0;
#undef B
}

/* Which model sub-section each class must carry ("" when none). */
static const char *class_section(enum bl_dev_class c)
{
	switch (c) {
	case BL_CLASS_ROBOT: return "robot";
	case BL_CLASS_BARCODE: return "barcode";
	case BL_CLASS_PUMP: return "pump";
	case BL_CLASS_DETECTOR: return "detector";
	case BL_CLASS_TRIGGER: return "trigger";
	default: return "";
	}
}

static int check_model(struct bl_hwdb_model *m, const struct bl_ynode *y, struct bl_hwdb_errors *e)
{
	int bad = 0;
	const char *want = class_section(m->cls);
	static const char *const sections[] = {"robot", "barcode", "pump", "detector", "trigger"};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		bool has = bl_ytree_get(y, sections[i]) != NULL;
		if (!strcmp(sections[i], want) && !has) {
			bl_schema_error(e, y->file, y->line, sections[i],
					"missing required key for class %s",
					bl_hwdb_class_name(m->cls));
			bad++;
		} else if (strcmp(sections[i], want) && has) {
			bl_schema_error(e, file_of(y, sections[i]), line_of(y, sections[i]),
					sections[i], "not allowed for class %s",
					bl_hwdb_class_name(m->cls));
			bad++;
		}
	}
	if (!(proto_transports(m->protocol) & (1u << m->transport.kind))) {
		bl_schema_error(e, y->file, line_of(y, "transport"), "transport.kind",
				"%s cannot carry protocol %s",
				bl_hwdb_transport_name(m->transport.kind),
				bl_hwdb_protocol_name(m->protocol));
		bad++;
	}
	const struct bl_ynode *regs = bl_ytree_get(y, "registers");
	if (m->protocol == BL_PROTO_MODBUS && m->nregisters == 0) {
		bl_schema_error(e, y->file, y->line, "registers",
				"a modbus model needs a register map");
		bad++;
	}
	if (m->protocol != BL_PROTO_MODBUS && regs) {
		bl_schema_error(e, regs->file, regs->line, "registers",
				"only modbus models have a register map");
		bad++;
	}
	for (size_t i = 0; i < m->nregisters; i++) {
		struct bl_hwdb_register *r = &m->registers[i];
		const struct bl_ynode *ry = regs->items[i];
		char p[128];
		snprintf(p, sizeof(p), "registers[%s]", r->name);
		bool bit = r->table == BL_REG_COIL || r->table == BL_REG_DISCRETE;
		if (bit && !bl_ytree_get(ry, "type"))
			r->type = BL_REG_BOOL; /* bits need no type */
		if (bit != (r->type == BL_REG_BOOL) && bl_ytree_get(ry, "type")) {
			bl_schema_error(e, ry->file, line_of(ry, "type"), p,
					"type %s does not fit table %s", bit ? "word" : "bool",
					bit ? "of bits" : "of words");
			bad++;
		}
		if (r->writable && (r->table == BL_REG_DISCRETE || r->table == BL_REG_INPUT)) {
			bl_schema_error(e, ry->file, line_of(ry, "access"), p,
					"read-only table cannot be rw");
			bad++;
		}
		if (r->scale == 0) {
			bl_schema_error(e, ry->file, line_of(ry, "scale"), p,
					"scale must not be 0");
			bad++;
		}
		for (size_t j = 0; j < i; j++) {
			const struct bl_hwdb_register *o = &m->registers[j];
			int wide_r = (r->type >= BL_REG_INT32 && r->type <= BL_REG_FLOAT32) ? 2 : 1;
			int wide_o = (o->type >= BL_REG_INT32 && o->type <= BL_REG_FLOAT32) ? 2 : 1;
			if (!strcmp(o->name, r->name)) {
				bl_schema_error(e, ry->file, ry->line, p,
						"duplicate register name");
				bad++;
			} else if (o->table == r->table && r->address < o->address + wide_o &&
				   o->address < r->address + wide_r) {
				bl_schema_error(e, ry->file, line_of(ry, "address"), p,
						"overlaps register '%s'", o->name);
				bad++;
			}
		}
	}
	if (m->cls == BL_CLASS_ROBOT && m->robot.inner_reach_mm >= m->robot.reach_mm) {
		bl_schema_error(e, y->file, line_of(y, "robot"), "robot.inner_reach_mm",
				"must be below reach_mm");
		bad++;
	}
	return bad;
}

static int load_model_tree(struct bl_ynode *y, struct bl_hwdb_model *m, struct bl_hwdb_errors *e)
{
	memset(m, 0, sizeof(*m));
	int bad = bl_schema_apply(&bl_model_schema, y, m, "", e);
	snprintf(m->file, sizeof(m->file), "%s", y->file);
	m->line = y->line;
	if (!bad)
		bad += check_model(m, y, e);
	return bad;
}

int bl_hwdb_load_model(const char *path, struct bl_hwdb_model *m, struct bl_hwdb_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	struct bl_ynode *y = bl_ytree_load(path, yerr, errs);
	if (!y)
		return -EINVAL;
	int bad = load_model_tree(y, m, errs);
	bl_ytree_free(y);
	return bad ? -EINVAL : 0;
}

static const struct bl_hwdb_model *find_model(const struct bl_hwdb *db, const char *name)
{
	for (size_t i = 0; i < db->nmodels; i++)
		if (!strcmp(db->models[i].name, name))
			return &db->models[i];
	return NULL;
}

/* Loads every model file the beamline lists. */
static int load_models(struct loader *L, struct bl_ynode *list, struct bl_hwdb *db)
{
	struct bl_hwdb_errors *e = L->errs;
	if (!list) {
		bl_schema_error(e, db->file, 1, "models", "missing required key");
		return 1;
	}
	if (list->kind != BL_YSEQ) {
		bl_schema_error(e, list->file, list->line, "models",
				"expected a sequence of model file paths");
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < list->n; i++) {
		const struct bl_ynode *it = list->items[i];
		if (it->kind != BL_YSCALAR) {
			bl_schema_error(e, it->file, it->line, "models", "expected a file path");
			bad++;
			continue;
		}
		if (db->nmodels == BL_HWDB_MAX_MODELS) {
			bl_schema_error(e, it->file, it->line, "models", "more than %d models",
					BL_HWDB_MAX_MODELS);
			return bad + 1;
		}
		char path[BL_HWDB_PATH_MAX];
		resolve_path(it->file, it->text, path, sizeof(path));
		if (access(path, R_OK)) {
			bl_schema_error(e, it->file, it->line, "models", "cannot open '%s': %s",
					path, strerror(errno));
			bad++;
			continue;
		}
		struct bl_ynode *my = bl_ytree_load(path, yerr, e);
		if (!my) {
			bad++;
			continue;
		}
		struct bl_hwdb_model *m = &db->models[db->nmodels];
		if (load_model_tree(my, m, e)) {
			bl_ytree_free(my);
			bad++;
			continue;
		}
		const struct bl_hwdb_model *dup = find_model(db, m->name);
		if (dup) {
			bl_schema_error(e, my->file, line_of(my, "model"), "model",
					"duplicate model '%s' (first defined in %s)", m->name,
					dup->file);
			bl_ytree_free(my);
			bad++;
			continue;
		}
		L->model_trees[db->nmodels++] = my;
	}
	return bad;
}

/* Folds each device's model defaults (transport, timeouts) into the device's own tree. */
static int fold_model_defaults(struct loader *L, struct bl_ynode *devs, struct bl_hwdb *db)
{
	struct bl_hwdb_errors *e = L->errs;
	if (!devs || devs->kind != BL_YSEQ)
		return 0; /* the schema reports it */
	int bad = 0;
	for (size_t i = 0; i < devs->n; i++) {
		struct bl_ynode *d = devs->items[i];
		const struct bl_ynode *mn = bl_ytree_get(d, "model");
		const struct bl_ynode *nm = bl_ytree_get(d, "name");
		if (d->kind != BL_YMAP || !mn || mn->kind != BL_YSCALAR)
			continue;
		const struct bl_hwdb_model *m = find_model(db, mn->text);
		if (!m) {
			char p[128];
			snprintf(p, sizeof(p), "devices[%s].model",
				 nm && nm->kind == BL_YSCALAR ? nm->text : "?");
			bl_schema_error(e, mn->file, mn->line, p, "undefined model '%s'", mn->text);
			bad++;
			continue;
		}
		struct bl_ynode *mt = L->model_trees[m - db->models];
		static const char *const inherit[] = {"transport", "timeouts_ms"};
		for (size_t k = 0; k < 2; k++) {
			const struct bl_ynode *def = bl_ytree_get(mt, inherit[k]);
			if (!def)
				continue;
			struct bl_ynode *mine = bl_ytree_take(d, inherit[k]);
			struct bl_ynode *merged = bl_ytree_copy(def);
			if (mine && mine->kind == BL_YMAP)
				bl_ytree_merge(merged, mine);
			else if (mine) {
				bl_ytree_free(merged);
				merged = mine; /* not a mapping: let the schema report it */
			}
			struct bl_ypair *pairs = realloc(d->pairs, (d->n + 1) * sizeof(*pairs));
			if (!pairs)
				abort();
			d->pairs = pairs;
			d->pairs[d->n].key = strdup(inherit[k]);
			d->pairs[d->n].key_line = merged->line;
			d->pairs[d->n].value = merged;
			d->n++;
		}
	}
	return bad;
}

static const struct bl_hwdb_device *expect_device(const struct bl_hwdb *db, const char *name,
						  enum bl_dev_class cls, const struct bl_ynode *sec,
						  const char *key, const char *path,
						  struct bl_hwdb_errors *e)
{
	const struct bl_hwdb_device *d = bl_hwdb_device(db, name);
	char p[128];
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!d) {
		bl_schema_error(e, file_of(sec, key), line_of(sec, key), p, "undefined device '%s'",
				name);
		return NULL;
	}
	if (d->model && d->model->cls != cls) {
		bl_schema_error(e, file_of(sec, key), line_of(sec, key), p,
				"device '%s' is a %s, expected a %s", name,
				bl_hwdb_class_name(d->model->cls), bl_hwdb_class_name(cls));
		return NULL;
	}
	return d;
}

static int check_point(const struct bl_point *pt, const struct bl_hwdb_robot_model *rm,
		       const struct bl_ynode *node, const char *path, struct bl_hwdb_errors *e)
{
	double r = hypot(pt->x, pt->y);
	if (r > rm->reach_mm || r < rm->inner_reach_mm) {
		bl_schema_error(e, node->file, node->line, path,
				"point (%g, %g) is %.1f mm from the robot axis, outside its reach "
				"[%g, %g] mm",
				pt->x, pt->y, r, rm->inner_reach_mm, rm->reach_mm);
		return 1;
	}
	if (pt->z < rm->z_mm.min || pt->z > rm->z_mm.max) {
		bl_schema_error(e, node->file, node->line, path,
				"z %g outside the robot's [%g, %g] mm", pt->z, rm->z_mm.min,
				rm->z_mm.max);
		return 1;
	}
	return 0;
}

static int check_robot(const struct bl_hwdb *db, const struct bl_ynode *sec,
		       struct bl_hwdb_errors *e)
{
	const struct bl_hwdb_robot *r = &db->robot;
	const struct bl_hwdb_device *d =
	    expect_device(db, r->device, BL_CLASS_ROBOT, sec, "device", "robot", e);
	if (!d)
		return 1;
	const struct bl_hwdb_robot_model *rm = &d->model->robot;
	int bad = 0;
	bool home = false;
	const struct bl_ynode *poses = bl_ytree_get(sec, "safe_poses");
	for (size_t i = 0; i < r->nsafe; i++) {
		char p[128];
		snprintf(p, sizeof(p), "robot.safe_poses.%s", r->safe_poses[i].name);
		home |= !strcmp(r->safe_poses[i].name, "home");
		bad += check_point(&r->safe_poses[i].p, rm, poses->pairs[i].value, p, e);
	}
	if (!home) {
		bl_schema_error(e, file_of(sec, "safe_poses"), line_of(sec, "safe_poses"),
				"robot.safe_poses", "a safe pose named 'home' is required");
		bad++;
	}
	bad += check_point(&r->barcode_station, rm, bl_ytree_get(sec, "barcode_station"),
			   "robot.barcode_station", e);
	bad += check_point(&r->stage, rm, bl_ytree_get(sec, "stage"), "robot.stage", e);
	const struct bl_ynode *pucks = bl_ytree_get(sec, "pucks");
	for (size_t i = 0; i < r->npucks; i++) {
		const struct bl_ynode *py = pucks->items[i];
		char p[128];
		for (size_t j = 0; j < i; j++) {
			if (r->pucks[j].id == r->pucks[i].id) {
				snprintf(p, sizeof(p), "robot.pucks[%zu].id", i);
				bl_schema_error(e, py->file, line_of(py, "id"), p,
						"duplicate puck id %d", r->pucks[i].id);
				bad++;
			}
		}
		const struct bl_ynode *slots = bl_ytree_get(py, "slots");
		for (size_t s = 0; s < r->pucks[i].nslots; s++) {
			snprintf(p, sizeof(p), "robot.pucks[%d].slots[%zu]", r->pucks[i].id, s + 1);
			bad += check_point(&r->pucks[i].slots[s], rm, slots->items[s], p, e);
		}
	}
	return bad;
}

static int check_range_within(const struct bl_range *r, double lo, double hi,
			      const struct bl_ynode *sec, const char *key, const char *path,
			      const char *why, struct bl_hwdb_errors *e)
{
	if (r->min >= lo && r->max <= hi)
		return 0;
	char p[128];
	snprintf(p, sizeof(p), "%s.%s", path, key);
	bl_schema_error(e, file_of(sec, key), line_of(sec, key), p, "[%g, %g] exceeds %s [%g, %g]",
			r->min, r->max, why, lo, hi);
	return 1;
}

static int check_printer(const struct bl_hwdb *db, const struct bl_ynode *sec,
			 struct bl_hwdb_errors *e)
{
	const struct bl_hwdb_printer *p = &db->printer;
	int bad = 0;
	const struct bl_hwdb_device *pump =
	    expect_device(db, p->pump, BL_CLASS_PUMP, sec, "pump", "printer", e);
	bad += !pump;
	bad += !expect_device(db, p->coater, BL_CLASS_STAGE, sec, "coater", "printer", e);
	bad += !expect_device(db, p->web, BL_CLASS_WEB, sec, "web", "printer", e);
	const struct bl_ynode *hs = bl_ytree_get(sec, "heaters");
	for (size_t i = 0; i < p->nheaters; i++) {
		const struct bl_hwdb_device *h = bl_hwdb_device(db, p->heaters[i]);
		char path[128];
		snprintf(path, sizeof(path), "printer.heaters[%zu]", i);
		if (!h || h->model->cls != BL_CLASS_HEATER) {
			bl_schema_error(e, hs->items[i]->file, hs->items[i]->line, path,
					"'%s' is not a heater device", p->heaters[i]);
			bad++;
		}
	}
	if (pump) {
		const struct bl_hwdb_pump_model *pm = &pump->model->pump;
		if (p->syringe_diameter_mm < pm->diameter_mm.min ||
		    p->syringe_diameter_mm > pm->diameter_mm.max) {
			bl_schema_error(e, file_of(sec, "syringe_diameter_mm"),
					line_of(sec, "syringe_diameter_mm"),
					"printer.syringe_diameter_mm",
					"%g mm outside pump model '%s' range [%g, %g] mm",
					p->syringe_diameter_mm, pump->model->name,
					pm->diameter_mm.min, pm->diameter_mm.max);
			bad++;
		}
		bad += check_range_within(&p->flow_ul_min, 0, pm->max_rate_ul_min, sec,
					  "flow_ul_min", "printer", "the pump's rate range", e);
	}
	return bad;
}

static int check_sections(struct bl_hwdb *db, const struct bl_ynode *root, struct bl_hwdb_errors *e)
{
	int bad = 0;
	const struct bl_ynode *devs = bl_ytree_get(root, "devices");
	for (size_t i = 0; i < db->ndevices; i++) {
		struct bl_hwdb_device *d = &db->devices[i];
		const struct bl_ynode *dy = devs->items[i];
		char p[128];
		snprintf(p, sizeof(p), "devices[%s]", d->name);
		d->line = dy->line;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(db->devices[j].name, d->name)) {
				bl_schema_error(e, dy->file, line_of(dy, "name"), p,
						"duplicate device name (first at line %d)",
						db->devices[j].line);
				bad++;
			}
		}
		d->model = find_model(db, d->model_name);
		if (!d->model)
			continue; /* reported while folding defaults */
		char tp[160];
		snprintf(tp, sizeof(tp), "%s.transport", p);
		bad += check_transport(&d->transport, bl_ytree_get(dy, "transport"), tp, e);
		if (!(proto_transports(d->model->protocol) & (1u << d->transport.kind))) {
			const struct bl_ynode *t = bl_ytree_get(dy, "transport");
			bl_schema_error(e, file_of(t, "kind"), line_of(t, "kind"), tp,
					"%s cannot carry protocol %s of model '%s'",
					bl_hwdb_transport_name(d->transport.kind),
					bl_hwdb_protocol_name(d->model->protocol), d->model->name);
			bad++;
		}
		if (d->model->cls == BL_CLASS_DETECTOR && !d->stream[0]) {
			bl_schema_error(e, dy->file, dy->line, p,
					"a detector needs 'stream' (its ZMQ data endpoint)");
			bad++;
		}
	}
	if (bad)
		return bad; /* sections below rely on sound devices */

	const struct bl_ynode *sec;
	if ((sec = bl_ytree_get(root, "robot")))
		bad += check_robot(db, sec, e);
	if ((sec = bl_ytree_get(root, "barcode"))) {
		bad += !expect_device(db, db->barcode.device, BL_CLASS_BARCODE, sec, "device",
				      "barcode", e);
		regex_t re;
		if (db->barcode.pattern[0]) {
			int rc = regcomp(&re, db->barcode.pattern, REG_EXTENDED | REG_NOSUB);
			if (rc) {
				char msg[128];
				regerror(rc, &re, msg, sizeof(msg));
				bl_schema_error(e, file_of(sec, "pattern"), line_of(sec, "pattern"),
						"barcode.pattern", "bad regular expression: %s",
						msg);
				bad++;
			} else {
				regfree(&re);
			}
		}
	}
	if ((sec = bl_ytree_get(root, "printer")))
		bad += check_printer(db, sec, e);
	if ((sec = bl_ytree_get(root, "detector")))
		bad += !expect_device(db, db->detector.device, BL_CLASS_DETECTOR, sec, "device",
				      "detector", e);
	if ((sec = bl_ytree_get(root, "trigger"))) {
		const struct bl_hwdb_device *t = expect_device(
		    db, db->trigger.device, BL_CLASS_TRIGGER, sec, "device", "trigger", e);
		if (!t)
			bad++;
		else if (db->trigger.detector_channel >= t->model->trigger.channels) {
			bl_schema_error(e, file_of(sec, "detector_channel"),
					line_of(sec, "detector_channel"),
					"trigger.detector_channel",
					"channel %d, but model '%s' has %d channels",
					db->trigger.detector_channel, t->model->name,
					t->model->trigger.channels);
			bad++;
		}
	}
	const struct bl_ynode *ils = bl_ytree_get(root, "interlocks");
	for (size_t i = 0; i < db->ninterlocks; i++) {
		const struct bl_hwdb_interlock *il = &db->interlocks[i];
		const struct bl_ynode *iy = ils->items[i];
		char p[128];
		snprintf(p, sizeof(p), "interlocks[%s].source", il->name);
		if (!bl_hwdb_device(db, il->source)) {
			bl_schema_error(e, iy->file, line_of(iy, "source"), p,
					"undefined device '%s'", il->source);
			bad++;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(db->interlocks[j].name, il->name)) {
				snprintf(p, sizeof(p), "interlocks[%s]", il->name);
				bl_schema_error(e, iy->file, line_of(iy, "name"), p,
						"duplicate interlock name");
				bad++;
			}
		}
	}
	return bad;
}

int bl_hwdb_load(const char *path, struct bl_hwdb **out, struct bl_hwdb_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	*out = NULL;
	struct bl_hwdb *db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	snprintf(db->file, sizeof(db->file), "%s", path);
	struct loader L = {.errs = errs};
	struct bl_ynode *root = load_layered(path, 0, errs);
	if (!root)
		goto fail;
	if (root->kind != BL_YMAP) {
		bl_schema_error(errs, root->file, root->line, "",
				"a beamline file must be a mapping");
		goto fail;
	}
	struct bl_ynode *models = bl_ytree_take(root, "models");
	int bad = load_models(&L, models, db);
	bl_ytree_free(models);
	bad += fold_model_defaults(&L, bl_ytree_get(root, "devices"), db);
	/* keep going after model problems so one run reports as much as it can */
	bad += bl_schema_apply(&bl_beamline_schema, root, db, "", errs);
	if (!bad)
		bad += check_sections(db, root, errs);
	if (bad)
		goto fail;
	bl_ytree_free(root);
	for (size_t i = 0; i < db->nmodels; i++)
		bl_ytree_free(L.model_trees[i]);
	*out = db;
	return 0;
fail:
	if (errs->count == 0)
		bl_schema_error(errs, path, 0, "", "invalid beamline description");
	bl_ytree_free(root);
	for (size_t i = 0; i < BL_HWDB_MAX_MODELS; i++)
		bl_ytree_free(L.model_trees[i]);
	free(db);
	return -EINVAL;
}

void bl_hwdb_print_errors(const struct bl_hwdb_errors *e, FILE *out)
{
	for (size_t i = 0; i < e->count - e->dropped; i++)
		fprintf(out, "%s\n", e->msg[i]);
	if (e->dropped)
		fprintf(out, "(%zu more problems not shown)\n", e->dropped);
}

void bl_hwdb_free(struct bl_hwdb *db)
{
	free(db);
}

const struct bl_hwdb_device *bl_hwdb_device(const struct bl_hwdb *db, const char *name)
{
	for (size_t i = 0; i < db->ndevices; i++)
		if (!strcmp(db->devices[i].name, name))
			return &db->devices[i];
	return NULL;
}

const char *bl_hwdb_class_name(enum bl_dev_class c)
{
	return bl_class_names[c];
}

const char *bl_hwdb_protocol_name(enum bl_protocol p)
{
	return bl_protocol_names[p];
}

const char *bl_hwdb_transport_name(enum bl_transport_kind k)
{
	return bl_transport_names[k];
}
