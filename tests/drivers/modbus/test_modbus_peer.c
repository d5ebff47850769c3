/* test_modbus_peer.c HWDB PORT: the Modbus driver reads pymodbus's seeded registers and writes
 * values it will check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../check.h"
#include "bl_mb.h"

static struct bl_mb *mb;

static double rd(const char *name)
{
	double v = -1e300;
	CHECK_EQ_INT(bl_mb_read(mb, name, &v), 0);
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	if (bl_hwdb_load(argv[1], &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	struct bl_hwdb_device d = *bl_hwdb_device(db, "peer");
	d.transport.port = atoi(argv[2]);
	CHECK_EQ_INT(bl_mb_open(&d, &mb), 0);
	CHECK_NEAR(rd("i16"), -12.3, 1e-9);
	CHECK_NEAR(rd("u32"), 100000, 0);
	CHECK_NEAR(rd("f32"), 3.14159274, 1e-6);
	CHECK_NEAR(rd("f32_lo"), -2.5, 0);
	CHECK_NEAR(rd("i32_lo"), -70.0, 1e-9);
	CHECK_NEAR(rd("u16_in"), 50.0, 0);
	CHECK_NEAR(rd("coil3"), 1, 0);
	CHECK_NEAR(rd("disc5"), 1, 0);
	CHECK_EQ_INT(bl_mb_write(mb, "w_i16", -42.5), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "w_i16", 100.1), -ERANGE);
	CHECK_EQ_INT(bl_mb_write(mb, "w_i32", -123456), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "w_f32", 6.75), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "w_coil", 1), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "i16", 1), -EACCES);
	CHECK_NEAR(rd("w_i16"), -42.5, 1e-9);
	CHECK_NEAR(rd("w_i32"), -123456, 0);
	CHECK_NEAR(rd("w_f32"), 6.75, 0);
	CHECK_NEAR(rd("w_coil"), 1, 0);
	/* an address the server does not hold: its exception, mapped */
	struct bl_hwdb_device far = d;
	struct bl_hwdb_model m = *d.model;
	m.registers[0].address = 1000;
	far.model = &m;
	struct bl_mb *mb2;
	CHECK_EQ_INT(bl_mb_open(&far, &mb2), 0);
	double v;
	CHECK_EQ_INT(bl_mb_read(mb2, "i16", &v), -EFAULT);
	bl_mb_close(mb2);
	bl_mb_close(mb);
	bl_hwdb_free(db);
	return CHECK_DONE();
}
