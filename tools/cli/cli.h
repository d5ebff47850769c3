/* cli.h: the subcommands of the `beamloop` command line. */
#ifndef BL_CLI_H
#define BL_CLI_H

struct bl_hwdb;

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

/* Default beamline description (relative to the source tree, overridable by BEAMLOOP_HWDB). */
const char *bl_cli_default_hwdb(void);

/* Loads a beamline description, printing every problem to stderr; NULL on failure. */
struct bl_hwdb *bl_cli_load_hwdb(const char *file);

struct bl_epson;
struct bl_pump;
struct bl_pump_event;

/* Polls an Epson operation started with RC to its end (bounded by LIMIT_MS); its rc. */
int bl_cli_epson_wait(struct bl_epson *h, int rc, int limit_ms);

/* Runs the pump's queue until TICKET's event; prints errors; the event's rc. */
int bl_cli_pump_wait(struct bl_pump *p, int ticket, struct bl_pump_event *ev);

#endif
