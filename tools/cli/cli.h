/* cli.h: the subcommands of the `beamloop` command line. */
#ifndef BL_CLI_H
#define BL_CLI_H

struct bl_cli_cmd {
	const char *name;
	const char *help;
	int (*fn)(int argc,
		  char **argv); /* argv[0] is the command's own name; returns the exit code */
};

int bl_cli_hwdb(int argc, char **argv);
int bl_cli_run(int argc, char **argv);
int bl_cli_info(int argc, char **argv);
int bl_cli_barcode(int argc, char **argv);
int bl_cli_robot(int argc, char **argv);
int bl_cli_pump(int argc, char **argv);
int bl_cli_modbus(int argc, char **argv);
int bl_cli_trigger(int argc, char **argv);
int bl_cli_detector(int argc, char **argv);
int bl_cli_fw(int argc, char **argv);
int bl_cli_reduce(int argc, char **argv);

/* Default beamline description (relative to the source tree, overridable by BEAMLOOP_HWDB). */
const char *bl_cli_default_hwdb(void);

/* Loads a beamline description, printing every problem to stderr; NULL on failure. */
struct bl_hwdb *bl_cli_load_hwdb(const char *file);

#include "bl_hwdb.h"

#define BL_CLI_MAX_ARGS 16

/* The options every device command takes, and the device they name (a copy with overrides). */
struct bl_cli_dev {
	const char *file;   /* --hwdb (default: the sim beamline) */
	const char *name;   /* --device (default: the command's role in hwdb) */
	const char *port;   /* --port/--link: a TCP port, or a serial path for serial devices */
	const char *host;   /* --host */
	const char *stream; /* --stream (detector data endpoint) */
	const char *password;
	int nargs; /* the words that are not options: verb first */
	char *args[BL_CLI_MAX_ARGS];
	struct bl_hwdb *db;
	struct bl_hwdb_device dev;
};

/* Sorts ARGV into options (anywhere) and words (O->args); 0, or -1 (bad option, no verb). */
int bl_cli_dev_options(int argc, char **argv, struct bl_cli_dev *o);
/* Loads hwdb and copies the device (O->name, else the one the beamline gives ROLE: "barcode",
 * "pump", "robot", "detector", "trigger") with the overrides; 0, or -1 after printing why. */
int bl_cli_dev_load(struct bl_cli_dev *o, const char *role);
void bl_cli_dev_free(struct bl_cli_dev *o);

struct bl_epson;
struct bl_pump;
struct bl_pump_event;

/* Polls an Epson operation started with RC to its end (bounded by LIMIT_MS); its rc. */
int bl_cli_epson_wait(struct bl_epson *h, int rc, int limit_ms);

/* Runs the pump's queue until TICKET's event; prints errors; the event's rc. */
int bl_cli_pump_wait(struct bl_pump *p, int ticket, struct bl_pump_event *ev);

#endif
