/* cli_dev.c: what the device commands share: --hwdb/--device/--port/--stream options and the device
 * they name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int bl_cli_dev_options(int argc, char **argv, struct bl_cli_dev *o)
{
	memset(o, 0, sizeof(*o));
	o->file = bl_cli_default_hwdb();
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) || argv[i][2] == 0) {
			if (o->nargs == BL_CLI_MAX_ARGS)
				return -1;
			o->args[o->nargs++] = argv[i];
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *v = argv[++i];
		if (!strcmp(argv[i - 1], "--hwdb"))
			o->file = v;
		else if (!strcmp(argv[i - 1], "--device"))
			o->name = v;
		else if (!strcmp(argv[i - 1], "--port") || !strcmp(argv[i - 1], "--link"))
			o->port = v;
		else if (!strcmp(argv[i - 1], "--stream"))
			o->stream = v;
		else if (!strcmp(argv[i - 1], "--host"))
			o->host = v;
		else if (!strcmp(argv[i - 1], "--password"))
			o->password = v;
		else
			return -1;
	}
	return o->nargs ? 0 : -1;
}

/* The device the beamline gives ROLE (its barcode reader, pump, ...), else ROLE as a name. */
static const char *role_device(const struct bl_hwdb *db, const char *role)
{
	const char *d = !strcmp(role, "barcode")    ? db->barcode.device
			: !strcmp(role, "pump")	    ? db->printer.pump
			: !strcmp(role, "detector") ? db->detector.device
			: !strcmp(role, "trigger")  ? db->trigger.device
			: !strcmp(role, "robot")    ? db->robot.device
						    : "";
	return d[0] ? d : role;
}

int bl_cli_dev_load(struct bl_cli_dev *o, const char *role)
{
	o->db = bl_cli_load_hwdb(o->file);
	if (!o->db)
		return -1;
	const char *name = o->name ? o->name : role_device(o->db, role);
	const struct bl_hwdb_device *d = bl_hwdb_device(o->db, name);
	if (!d) {
		fprintf(stderr, "beamloop: no device '%s' in %s\n", name, o->file);
		bl_hwdb_free(o->db);
		o->db = NULL;
		return -1;
	}
	o->dev = *d;
	struct bl_hwdb_transport *t = &o->dev.transport;
	if (o->port && (t->kind == BL_TR_SERIAL || t->kind == BL_TR_MODBUS_RTU))
		snprintf(t->device, sizeof(t->device), "%s", o->port);
	else if (o->port)
		t->port = atoi(o->port);
	if (o->host)
		snprintf(t->host, sizeof(t->host), "%s", o->host);
	if (o->stream)
		snprintf(o->dev.stream, sizeof(o->dev.stream), "%s", o->stream);
	return 0;
}

void bl_cli_dev_free(struct bl_cli_dev *o)
{
	bl_hwdb_free(o->db);
	o->db = NULL;
}
