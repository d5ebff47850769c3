/* mb_physics.h: the simulated Modbus devices' registers and physics (heater lag, stage and web
 * motion with acceleration). */
#ifndef BL_MB_PHYSICS_H
#define BL_MB_PHYSICS_H

#include <modbus.h>
#include <stdbool.h>
#include <stddef.h>

#include "bl_hwdb.h"

struct bl_mb_world {
	struct bl_hwdb_device dev;
	struct bl_hwdb_model model;
	modbus_mapping_t *map;
	/* heater: temp_c is the element's temperature; the pv register only shows it at the
	 * display's 0.1 K resolution (small steps must not be rounded away) */
	double integral, ambient_c, gain_c, tau_s, temp_c;
	bool runaway;
	/* stage / web */
	double pos, vel;
	bool moving;
	int fault;
};

/* Registers a class needs by name (see drivers/modbus/README.md); -EINVAL when the model lacks
 * one, -ENOTSUP for a class with no physics. */
int bl_mb_world_init(struct bl_mb_world *w, const struct bl_hwdb_device *dev);
void bl_mb_world_free(struct bl_mb_world *w);

/* Advances DT seconds (0: only refresh the outputs). */
void bl_mb_world_step(struct bl_mb_world *w, double dt);

/* Called after a request was served: acts on commands written to coils. */
void bl_mb_world_inputs_changed(struct bl_mb_world *w);

/* Register access in engineering units, by name. */
int bl_mb_world_set(struct bl_mb_world *w, const char *name, double v);
double bl_mb_world_get(const struct bl_mb_world *w, const char *name);

/* Appends " name=value" for every register. */
void bl_mb_world_show(const struct bl_mb_world *w, char *out, size_t cap);

/* Faults: "runaway" (heater output stuck at 100 %), "fault" CODE (stage/web drive fault),
 * "clear". Returns -ENOTSUP when the fault does not apply to the class. */
int bl_mb_world_fault(struct bl_mb_world *w, const char *what, int code);

#endif
