/* cmd_hwdb.c: `beamloop hwdb check FILE...` and `beamloop hwdb show FILE`. */
#include <stdio.h>
#include <string.h>

#include "bl_hwdb.h"
#include "cli.h"

static int check(int n, char **files)
{
	int bad = 0;
	static struct bl_hwdb_errors errs;
	for (int i = 0; i < n; i++) {
		struct bl_hwdb *db;
		if (bl_hwdb_load(files[i], &db, &errs) == 0) {
			printf("%s: ok (beamline %s, %zu devices, %zu models)\n", files[i],
			       db->beamline, db->ndevices, db->nmodels);
			bl_hwdb_free(db);
		} else {
			bl_hwdb_print_errors(&errs, stdout);
			bad = 1;
		}
	}
	return bad;
}

int bl_cli_hwdb(int argc, char **argv)
{
	static struct bl_hwdb_errors errs;
	if (argc >= 3 && !strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "show")) {
		struct bl_hwdb *db;
		if (bl_hwdb_load(argv[2], &db, &errs)) {
			bl_hwdb_print_errors(&errs, stdout);
			return 1;
		}
		bl_hwdb_show(db, stdout);
		bl_hwdb_free(db);
		return 0;
	}
	fprintf(stderr, "usage: beamloop hwdb check FILE... | beamloop hwdb show FILE\n");
	return 2;
}
