/* cmd_barcode.c: `beamloop barcode read`: one read from a barcode reader named in hwdb, by hand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bl_barcode.h"
#include "bl_hwdb.h"
#include "cli.h"

static int usage(void)
{
	fprintf(stderr, "usage: beamloop barcode read [--hwdb FILE] [--device NAME] [--port PATH]\n"
			"  exit 0 valid code, 3 no-read, 4 misread, 1 error\n");
	return 2;
}

int bl_cli_barcode(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o) || strcmp(o.args[0], "read") || o.nargs != 1)
		return usage();
	if (bl_cli_dev_load(&o, "barcode"))
		return 1;
	const char *name = o.dev.name; /* the beamline's validation rules apply to its reader */
	struct bl_barcode *bc;
	int rc = bl_barcode_new(&o.dev, !strcmp(o.db->barcode.device, name) ? &o.db->barcode : NULL,
				&bc);
	if (rc) {
		fprintf(stderr, "beamloop: %s: %s\n", name, strerror(-rc));
		bl_cli_dev_free(&o);
		return 1;
	}
	struct bl_barcode_result res;
	rc = bl_barcode_read_blocking(bc, &res);
	int status = 1;
	if (rc < 0) {
		fprintf(stderr, "beamloop: %s: %s\n", name,
			rc == -ENOTCONN ? "reader not reachable" : strerror(-rc));
	} else if (res.status == BL_BC_OK) {
		printf("ok %s\n", res.code);
		status = 0;
	} else if (res.status == BL_BC_NOREAD) {
		printf("no-read\n");
		status = 3;
	} else {
		printf("misread (%s): %s\n", res.why, res.raw);
		status = 4;
	}
	bl_barcode_free(bc);
	bl_cli_dev_free(&o);
	return status;
}
