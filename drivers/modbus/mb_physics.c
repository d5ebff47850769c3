/* mb_physics.c: register storage and the physical models behind the simulated heater, coater stage
 * and web drive. */
#include "mb_physics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mb_value.h"

static const struct bl_hwdb_register *find(const struct bl_mb_world *w, const char *name)
{
	for (size_t i = 0; i < w->model.nregisters; i++)
		if (!strcmp(w->model.registers[i].name, name))
			return &w->model.registers[i];
	return NULL;
}

/* The words of register R inside the mapping. */
static uint16_t *words(const struct bl_mb_world *w, const struct bl_hwdb_register *r)
{
	return r->table == BL_REG_INPUT ? &w->map->tab_input_registers[r->address]
					: &w->map->tab_registers[r->address];
}

double bl_mb_world_get(const struct bl_mb_world *w, const char *name)
{
	const struct bl_hwdb_register *r = find(w, name);
	if (!r)
		return 0;
	if (r->table == BL_REG_COIL)
		return w->map->tab_bits[r->address];
	if (r->table == BL_REG_DISCRETE)
		return w->map->tab_input_bits[r->address];
	return bl_mb_decode(r, words(w, r));
}

int bl_mb_world_set(struct bl_mb_world *w, const char *name, double v)
{
	const struct bl_hwdb_register *r = find(w, name);
	if (!r)
		return -ENOENT;
	if (w->model.cls == BL_CLASS_HEATER && !strcmp(name, "pv"))
		w->temp_c = v; /* the control socket sets the temperature itself */
	if (r->table == BL_REG_COIL) {
		w->map->tab_bits[r->address] = v != 0;
		return 0;
	}
	if (r->table == BL_REG_DISCRETE) {
		w->map->tab_input_bits[r->address] = v != 0;
		return 0;
	}
	uint16_t tmp[2];
	if (bl_mb_encode(r, v, tmp))
		return -ERANGE;
	uint16_t *dst = words(w, r);
	dst[0] = tmp[0];
	if (bl_mb_reg_words(r) == 2)
		dst[1] = tmp[1];
	return 0;
}

static const char *const heater_regs[] = {"pv",	       "target_sp",   "working_sp", "working_op",
					  "manual_op", "auto_manual", NULL};
static const char *const stage_regs[] = {"enable", "start_move", "stop",     "moving",
					 "fault",  "position",	 "velocity", "fault_code",
					 "target", "speed",	 "accel",    NULL};
static const char *const web_regs[] = {"run",	"running",  "fault",   "speed_sp",   "accel",
				       "speed", "position", "tension", "tension_sp", NULL};

int bl_mb_world_init(struct bl_mb_world *w, const struct bl_hwdb_device *dev)
{
	memset(w, 0, sizeof(*w));
	w->dev = *dev;
	w->model = *dev->model;
	w->dev.model = &w->model;
	const char *const *need = w->model.cls == BL_CLASS_HEATER  ? heater_regs
				  : w->model.cls == BL_CLASS_STAGE ? stage_regs
				  : w->model.cls == BL_CLASS_WEB   ? web_regs
								   : NULL;
	if (!need)
		return -ENOTSUP;
	for (int i = 0; need[i]; i++)
		if (!find(w, need[i]))
			return -EINVAL;
	int size[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < w->model.nregisters; i++) {
		const struct bl_hwdb_register *r = &w->model.registers[i];
		int end = r->address + bl_mb_reg_words(r);
		if (end > size[r->table])
			size[r->table] = end;
	}
	w->map = modbus_mapping_new(size[BL_REG_COIL], size[BL_REG_DISCRETE], size[BL_REG_HOLDING],
				    size[BL_REG_INPUT]);
	if (!w->map)
		return -ENOMEM;
	w->ambient_c = 22.0;
	w->gain_c = 300.0; /* full power holds the element 300 K above ambient */
	w->tau_s = 40.0;
	if (w->model.cls == BL_CLASS_HEATER) {
		bl_mb_world_set(w, "pv", w->ambient_c);
		bl_mb_world_set(w, "target_sp", w->ambient_c);
		if (find(w, "sp_high"))
			bl_mb_world_set(w, "sp_high", find(w, "target_sp")->limits.max);
	} else if (w->model.cls == BL_CLASS_STAGE) {
		bl_mb_world_set(w, "speed", 10.0);
		bl_mb_world_set(w, "accel", 100.0);
	} else {
		bl_mb_world_set(w, "speed_sp", 5.0);
		bl_mb_world_set(w, "accel", 20.0);
	}
	return 0;
}

void bl_mb_world_free(struct bl_mb_world *w)
{
	if (w->map)
		modbus_mapping_free(w->map);
	w->map = NULL;
}

/* Eurotherm-like loop: PI control on the working setpoint, first-order thermal lag. */
static void heater_step(struct bl_mb_world *w, double dt)
{
	double sp = bl_mb_world_get(w, "target_sp");
	double pv = w->temp_c;
	double op;
	if (w->runaway) {
		op = 100.0; /* a welded solid-state relay: full power whatever the setpoint */
	} else if (bl_mb_world_get(w, "auto_manual") != 0) {
		op = bl_mb_world_get(w, "manual_op");
	} else {
		double e = sp - pv;
		double kp = 8.0, ki = 0.25;
		w->integral += e * dt;
		if (w->integral * ki > 100)
			w->integral = 100 / ki;
		if (w->integral * ki < 0)
			w->integral = 0;
		op = fmin(fmax(kp * e + ki * w->integral, 0), 100);
	}
	if (dt > 0) {
		/* exact first-order response over dt at constant power */
		double target = w->ambient_c + op / 100.0 * w->gain_c;
		pv = target + (pv - target) * exp(-dt / w->tau_s);
	}
	bl_mb_world_set(w, "pv", pv);
	bl_mb_world_set(w, "working_sp", sp);
	bl_mb_world_set(w, "working_op", op);
}

/* Moves VEL toward a speed that reaches GOAL (when STOPPING, zero) within ACCEL. */
static void trapezoid(struct bl_mb_world *w, double goal, double vmax, double accel, double dt)
{
	double rem = goal - w->pos;
	double dir = rem > 0 ? 1 : -1;
	double stop_dist = w->vel * w->vel / (2 * accel);
	double want = fabs(rem) <= stop_dist ? 0 : dir * vmax;
	if (!w->moving)
		want = 0;
	double dv = want - w->vel;
	double lim = accel * dt;
	w->vel += fmax(fmin(dv, lim), -lim);
	w->pos += w->vel * dt;
	if (w->moving && fabs(goal - w->pos) < 1e-3 && fabs(w->vel) < accel * 0.01 + 1e-6) {
		w->pos = goal;
		w->vel = 0;
		w->moving = false;
	}
	if (!w->moving && fabs(w->vel) < 1e-9)
		w->vel = 0;
}

static void stage_step(struct bl_mb_world *w, double dt)
{
	if (dt > 0) {
		/* integrate in small steps so the ramps keep their shape at any time scale */
		int n = (int)ceil(dt / 0.002);
		for (int i = 0; i < n; i++)
			trapezoid(w, bl_mb_world_get(w, "target"), bl_mb_world_get(w, "speed"),
				  fmax(bl_mb_world_get(w, "accel"), 1e-3), dt / n);
	}
	bl_mb_world_set(w, "position", w->pos);
	bl_mb_world_set(w, "velocity", w->vel);
	bl_mb_world_set(w, "moving", w->moving || w->vel != 0);
	bl_mb_world_set(w, "fault", w->fault != 0);
	bl_mb_world_set(w, "fault_code", w->fault);
}

static void web_step(struct bl_mb_world *w, double dt)
{
	bool run = bl_mb_world_get(w, "run") != 0 && !w->fault;
	double goal = run ? bl_mb_world_get(w, "speed_sp") : 0;
	double accel = fmax(bl_mb_world_get(w, "accel"), 1e-3);
	if (dt > 0) {
		double dv = goal - w->vel, lim = accel * dt;
		double v0 = w->vel;
		w->vel += fmax(fmin(dv, lim), -lim);
		w->pos += 0.5 * (v0 + w->vel) * dt;
		double tension = bl_mb_world_get(w, "tension");
		double tgoal = run ? bl_mb_world_get(w, "tension_sp") : 0;
		bl_mb_world_set(w, "tension", tgoal + (tension - tgoal) * exp(-dt / 0.5));
	}
	bl_mb_world_set(w, "speed", w->vel);
	bl_mb_world_set(w, "position", w->pos);
	bl_mb_world_set(w, "running", w->vel > 0);
	bl_mb_world_set(w, "fault", w->fault != 0);
}

void bl_mb_world_step(struct bl_mb_world *w, double dt)
{
	switch (w->model.cls) {
	case BL_CLASS_HEATER: heater_step(w, dt); break;
	case BL_CLASS_STAGE: stage_step(w, dt); break;
	case BL_CLASS_WEB: web_step(w, dt); break;
	default: break;
	}
}

void bl_mb_world_inputs_changed(struct bl_mb_world *w)
{
	if (w->model.cls != BL_CLASS_STAGE)
		return;
	/* command coils act once and read back as 0, as a drive's "execute" bits do */
	if (bl_mb_world_get(w, "stop") != 0) {
		bl_mb_world_set(w, "stop", 0);
		w->moving = false; /* decelerates to rest in stage_step */
	}
	if (bl_mb_world_get(w, "start_move") != 0) {
		bl_mb_world_set(w, "start_move", 0);
		if (bl_mb_world_get(w, "enable") != 0 && !w->fault)
			w->moving = true;
	}
	if (bl_mb_world_get(w, "enable") == 0)
		w->moving = false;
}

int bl_mb_world_fault(struct bl_mb_world *w, const char *what, int code)
{
	if (!strcmp(what, "clear")) {
		w->runaway = false;
		w->fault = 0;
		return 0;
	}
	if (!strcmp(what, "runaway")) {
		if (w->model.cls != BL_CLASS_HEATER)
			return -ENOTSUP;
		w->runaway = true;
		return 0;
	}
	if (w->model.cls == BL_CLASS_HEATER)
		return -ENOTSUP;
	w->fault = code ? code : 1;
	w->moving = false;
	return 0;
}

void bl_mb_world_show(const struct bl_mb_world *w, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < w->model.nregisters && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " %s=%.6g", w->model.registers[i].name,
				      bl_mb_world_get(w, w->model.registers[i].name));
}
