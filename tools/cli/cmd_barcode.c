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
	const char *file = bl_cli_default_hwdb(), *name = NULL, *port = NULL;
	if (argc < 2 || strcmp(argv[1], "read"))
		return usage();
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--hwdb"))
			file = argv[++i];
		else if (!strcmp(argv[i], "--device"))
			name = argv[++i];
		else if (!strcmp(argv[i], "--port"))
			port = argv[++i];
		else
			return usage();
	}
	struct bl_hwdb *db = bl_cli_load_hwdb(file);
	if (!db)
		return 1;
	if (!name)
		name = db->barcode.device[0] ? db->barcode.device : "barcode";
	const struct bl_hwdb_device *d = bl_hwdb_device(db, name);
	if (!d) {
		fprintf(stderr, "beamloop: no device '%s' in %s\n", name, file);
		bl_hwdb_free(db);
		return 1;
	}
	struct bl_hwdb_device dev = *d;
	if (port)
		snprintf(dev.transport.device, sizeof(dev.transport.device), "%s", port);
	struct bl_barcode *bc;
	int rc = bl_barcode_new(&dev, !strcmp(db->barcode.device, name) ? &db->barcode : NULL, &bc);
	if (rc) {
		fprintf(stderr, "beamloop: %s: %s\n", name, strerror(-rc));
		bl_hwdb_free(db);
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
	bl_hwdb_free(db);
	return status;
}
