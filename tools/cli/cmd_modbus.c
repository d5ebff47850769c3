/* cmd_modbus.c: `beamloop modbus read|write|dump DEVICE ...`: Modbus devices by register name, by
 * hand (limits apply). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_hwdb.h"
#include "bl_mb.h"
#include "cli.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: beamloop modbus [--hwdb FILE] [--port N | --link PATH] VERB DEVICE "
		"[REGISTER [VALUE]]\n"
		"  read DEVICE REGISTER | write DEVICE REGISTER VALUE | dump DEVICE\n"
		"  --port: override the TCP port, --link: override the RTU serial device\n");
	return 2;
}

int bl_cli_modbus(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o) || o.nargs < 2)
		return usage();
	const char *verb = o.args[0];
	const char *reg = o.nargs > 2 ? o.args[2] : NULL, *val = o.nargs > 3 ? o.args[3] : NULL;
	bool rd = !strcmp(verb, "read") && reg, wr = !strcmp(verb, "write") && val,
	     dump = !strcmp(verb, "dump");
	if (!rd && !wr && !dump)
		return usage();
	o.name = o.args[1];
	if (bl_cli_dev_load(&o, o.name))
		return 1;
	const char *name = o.dev.name;
	struct bl_hwdb_device dev = o.dev;
	struct bl_mb *mb = NULL;
	int status = 1;
	if (bl_mb_open(&dev, &mb)) {
		fprintf(stderr, "beamloop: '%s' is not a Modbus device\n", name);
		goto out;
	}
	if (dump) {
		status = 0;
		for (size_t k = 0; k < dev.model->nregisters; k++) {
			const struct bl_hwdb_register *r = &dev.model->registers[k];
			double v;
			int rc = bl_mb_read(mb, r->name, &v);
			if (rc) {
				printf("%-12s error: %s\n", r->name, bl_mb_strerror(rc));
				status = 1;
			} else {
				printf("%-12s %.6g %s\n", r->name, v, r->unit);
			}
		}
		goto out;
	}
	const struct bl_hwdb_register *r = bl_mb_reg(mb, reg);
	double v = wr ? atof(val) : 0;
	int rc = wr ? bl_mb_write(mb, reg, v) : bl_mb_read(mb, reg, &v);
	if (rc) {
		fprintf(stderr, "beamloop: %s.%s: %s\n", name, reg, bl_mb_strerror(rc));
		goto out;
	}
	printf("%s.%s = %.6g %s\n", name, reg, v, r ? r->unit : "");
	status = 0;
out:
	bl_mb_close(mb);
	bl_cli_dev_free(&o);
	return status;
}
