/* test_hwdb.c: the hwdb loader reads the shipped beamlines correctly and names file:line:key for
 * every malformed case. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_hwdb.h"

static struct bl_hwdb_errors errs;

static void test_sim(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hwdb/beamlines/sim.yaml", dir);
	struct bl_hwdb *db = NULL;
	int rc = bl_hwdb_load(path, &db, &errs);
	CHECK_EQ_INT(rc, 0);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (rc)
		return;
	CHECK_STR(db->beamline, "sim");
	CHECK_EQ_INT(db->ndevices, 9);
	CHECK_EQ_INT(db->nmodels, 9);

	const struct bl_hwdb_device *robot = bl_hwdb_device(db, "robot");
	CHECK(robot && robot->model->cls == BL_CLASS_ROBOT);
	CHECK_STR(robot->transport.host, "127.0.0.1");
	CHECK_EQ_INT(robot->transport.port, 5000);
	CHECK_STR(robot->transport.terminator, "\r\n"); /* inherited from the model */
	CHECK_EQ_INT(robot->timeouts.motion_ms, 30000);
	CHECK_NEAR(robot->model->robot.reach_mm, 650, 0);

	const struct bl_hwdb_device *bed = bl_hwdb_device(db, "heater_bed");
	CHECK(bed && bed->transport.kind == BL_TR_MODBUS_RTU);
	CHECK_EQ_INT(bed->transport.unit_id, 1);
	CHECK_EQ_INT(bed->transport.baud, 19200); /* from the model */
	CHECK_STR(bed->transport.device, "/tmp/beamloop-sim/heater_bed");
	const struct bl_hwdb_device *die = bl_hwdb_device(db, "heater_die");
	CHECK(die && die->transport.kind == BL_TR_MODBUS_TCP); /* kind overridden by the device */
	CHECK_EQ_INT(die->transport.unit_id, 2);
	CHECK_EQ_INT(die->transport.port, 1504);
	CHECK_EQ_INT(die->model->nregisters, 8);
	const struct bl_hwdb_register *sp = &die->model->registers[1];
	CHECK_STR(sp->name, "target_sp");
	CHECK(sp->writable && sp->has_limits && sp->table == BL_REG_HOLDING);
	CHECK_NEAR(sp->scale, 0.1, 1e-12);
	CHECK_NEAR(sp->limits.max, 400, 0);
	CHECK(!die->model->registers[0].writable);

	const struct bl_hwdb_device *coater = bl_hwdb_device(db, "coater");
	CHECK(coater->model->registers[0].type == BL_REG_BOOL); /* coil: type implied */
	CHECK(coater->model->registers[5].type == BL_REG_INT32);

	const struct bl_hwdb_device *pump = bl_hwdb_device(db, "pump");
	CHECK_EQ_INT(pump->address, 0);
	CHECK_EQ_INT(robot->address, -1);
	const struct bl_hwdb_device *bc = bl_hwdb_device(db, "barcode");
	CHECK_STR(bc->model->barcode.trigger, "LON\r");
	CHECK_STR(bc->model->barcode.no_read, "ERROR");

	CHECK_EQ_INT(db->robot.npucks, 2);
	CHECK_EQ_INT(db->robot.pucks[0].nslots, 16);
	CHECK_EQ_INT(db->robot.pucks[1].nslots, 16);
	CHECK_EQ_INT(db->robot.pucks[1].id, 2);
	CHECK_NEAR(db->robot.pucks[0].slots[0].x, 350.0, 1e-9);
	CHECK_NEAR(db->robot.pucks[0].slots[0].y, -107.88, 1e-9);
	CHECK_NEAR(db->robot.pucks[1].slots[15].z, -120.0, 1e-9);
	CHECK_STR(db->robot.safe_poses[0].name, "home");
	CHECK_NEAR(db->robot.stage.u, 90.0, 0);
	CHECK_EQ_INT(db->robot.robot_number, 1);
	CHECK_EQ_INT(db->robot.gripper_output, 8);
	CHECK_EQ_INT(db->robot.gripper_sensor, 10);
	CHECK_STR(db->robot.password, "");

	const struct bl_hwdb_device *det = bl_hwdb_device(db, db->detector.device);
	CHECK_EQ_INT(det->model->detector.width, 981);
	CHECK_EQ_INT(det->model->detector.height, 1043);
	CHECK_NEAR(det->model->detector.pixel_x_um, 172, 0);
	CHECK_STR(det->stream, "tcp://127.0.0.1:9999");
	CHECK_NEAR(db->detector.wavelength_nm, 0.12398, 1e-12);
	CHECK_NEAR(db->detector.count_time_s, 1.0, 0);

	CHECK_EQ_INT(db->printer.nheaters, 2);
	CHECK_STR(db->printer.heaters[1], "heater_die");
	CHECK_NEAR(db->printer.flow_ul_min.max, 500, 0);
	CHECK_EQ_INT(db->barcode.check_digit, BL_CHECK_MOD10);
	CHECK_EQ_INT(db->ninterlocks, 3);
	CHECK(!db->interlocks[0].active_high);
	CHECK_EQ_INT(db->interlocks[1].action, BL_IL_ABORT);
	const struct bl_hwdb_device *tb = bl_hwdb_device(db, "trigger");
	CHECK(tb->transport.kind == BL_TR_TCP && tb->transport.port == 5600);
	bl_hwdb_free(db);
}

/* The site override keeps the base and replaces just what it names. */
static void test_override(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hwdb/beamlines/als733-site.yaml", dir);
	struct bl_hwdb *db = NULL;
	int rc = bl_hwdb_load(path, &db, &errs);
	CHECK_EQ_INT(rc, 0);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (rc)
		return;
	CHECK_STR(db->beamline, "als733");
	CHECK_EQ_INT(db->ndevices, 9);
	CHECK_EQ_INT(db->nmodels, 8);
	const struct bl_hwdb_device *robot = bl_hwdb_device(db, "robot");
	CHECK_STR(robot->transport.host, "rc700.hutch.example");
	CHECK_NEAR(db->robot.speed_pct, 30, 0);	     /* from the base */
	CHECK_EQ_INT(db->robot.pucks[1].nslots, 16); /* from the base */
	const struct bl_hwdb_device *det = bl_hwdb_device(db, "detector");
	CHECK_STR(det->model->name, "dectris-pilatus3-2m");
	CHECK_EQ_INT(det->model->detector.width, 1475);
	CHECK_NEAR(db->detector.distance_mm, 4200, 0);
	CHECK_NEAR(db->detector.wavelength_nm, 0.12398, 1e-12); /* from the base */
	CHECK_NEAR(db->printer.temperature_c.max, 120, 0);
	CHECK_NEAR(db->printer.temperature_c.min, 20, 0);
	CHECK_NEAR(db->printer.flow_ul_min.max, 500, 0);
	const struct bl_hwdb_device *tb = bl_hwdb_device(db, "trigger");
	CHECK(tb->transport.kind == BL_TR_USB);
	CHECK_EQ_INT(tb->transport.usb_vid, 0x1209);
	CHECK_EQ_INT(tb->transport.usb_pid, 0xb10c);
	bl_hwdb_free(db);
}

static void test_models(const char *dir)
{
	char mdir[512];
	snprintf(mdir, sizeof(mdir), "%s/hwdb/models", dir);
	DIR *d = opendir(mdir);
	CHECK(d != NULL);
	if (!d)
		return;
	int n = 0;
	struct dirent *de;
	static struct bl_hwdb_model m;
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".yaml"))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", mdir, de->d_name);
		int rc = bl_hwdb_load_model(path, &m, &errs);
		if (rc) {
			fprintf(stderr, "model %s failed:\n", path);
			for (size_t i = 0; i < errs.count; i++)
				fprintf(stderr, "  %s\n", errs.msg[i]);
		}
		CHECK_EQ_INT(rc, 0);
		n++;
	}
	closedir(d);
	CHECK(n >= 9);
}

/* Each case file in tests/hwdb/bad starts with "# expect: [FILE:]LINE: TEXT"; loading it must fail
 * with a message "PATH:LINE: TEXT..." where PATH is the case file (or FILE beside it). */
static int run_bad_case(const char *bdir, const char *name)
{
	char path[1024], line[512];
	snprintf(path, sizeof(path), "%s/%s", bdir, name);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "# expect: ", 10)) {
		fprintf(stderr, "%s: no '# expect:' header\n", path);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	char *spec = line + 10, want[2048];
	char *colon = strchr(spec, ':');
	if (!colon)
		return 1;
	*colon = 0;
	char *end;
	strtol(spec, &end, 10);
	if (*end) /* a file name first, then the line */
		snprintf(want, sizeof(want), "%s/%s:%s", bdir, spec, colon + 1);
	else
		snprintf(want, sizeof(want), "%s:%s:%s", path, spec, colon + 1);

	struct bl_hwdb *db = NULL;
	int rc = bl_hwdb_load(path, &db, &errs);
	if (rc != -EINVAL) {
		fprintf(stderr, "%s: loaded (rc %d) but should have failed\n", path, rc);
		bl_hwdb_free(db);
		return 1;
	}
	for (size_t i = 0; i < errs.count - errs.dropped; i++)
		if (!strncmp(errs.msg[i], want, strlen(want)))
			return 0;
	fprintf(stderr, "%s: expected a message starting\n  %s\ngot:\n", path, want);
	for (size_t i = 0; i < errs.count - errs.dropped; i++)
		fprintf(stderr, "  %s\n", errs.msg[i]);
	return 1;
}

static void test_bad(const char *dir)
{
	char bdir[512];
	snprintf(bdir, sizeof(bdir), "%s/tests/hwdb/bad", dir);
	DIR *d = opendir(bdir);
	CHECK(d != NULL);
	if (!d)
		return;
	int n = 0, failed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		failed += run_bad_case(bdir, de->d_name);
		n++;
	}
	closedir(d);
	printf("%d malformed hwdb cases, %d failed\n", n, failed);
	CHECK(n >= 15);
	CHECK_EQ_INT(failed, 0);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	test_sim(dir);
	test_override(dir);
	test_models(dir);
	test_bad(dir);
	return CHECK_DONE();
}
