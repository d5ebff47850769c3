/* test_mb_physics.c: the simulated heater's physics at small time steps (a real-time simulator
 * steps a few ms at a time: the temperature must not be rounded to the display's 0.1 K). */
#include <math.h>
#include <stdio.h>

#include "../../check.h"
#include "mb_physics.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_mb_physics SOURCE_DIR\n");
		return 2;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/hwdb/beamlines/sim.yaml", argv[1]);
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	CHECK_EQ_INT(bl_hwdb_load(path, &db, &errs), 0);
	struct bl_mb_world w = {0};
	CHECK_EQ_INT(bl_mb_world_init(&w, bl_hwdb_device(db, "heater_bed")), 0);
	CHECK_NEAR(bl_mb_world_get(&w, "pv"), 22.0, 1e-9);
	CHECK_EQ_INT(bl_mb_world_set(&w, "target_sp", 26.0), 0);
	CHECK_EQ_INT(bl_mb_world_set(&w, "pv", 24.5), 0); /* as the control socket's "set" */
	/* 2 ms steps for 5 s: the PI loop brings it to the setpoint (settles in about 3 s) */
	for (int i = 0; i < 2500; i++)
		bl_mb_world_step(&w, 0.002);
	CHECK_NEAR(bl_mb_world_get(&w, "pv"), 26.0, 0.3);
	/* from ambient, 1 ms steps: heating starts at once and lands near the setpoint */
	CHECK_EQ_INT(bl_mb_world_set(&w, "pv", 22.0), 0);
	CHECK_EQ_INT(bl_mb_world_set(&w, "target_sp", 28.0), 0);
	for (int i = 0; i < 500; i++)
		bl_mb_world_step(&w, 0.001);
	CHECK(bl_mb_world_get(&w, "pv") >= 22.2);
	for (int i = 0; i < 9500; i++)
		bl_mb_world_step(&w, 0.001);
	CHECK_NEAR(bl_mb_world_get(&w, "pv"), 28.0, 0.5);
	bl_mb_world_free(&w);
	bl_hwdb_free(db);
	return CHECK_DONE();
}
