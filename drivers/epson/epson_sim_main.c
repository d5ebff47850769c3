/* epson_sim_main.c: `bl-epson-sim`, the simulated Epson RC700 + G6 SCARA as a process: prints the
 * Remote Ethernet port on stdout's first line, serves until SIGTERM / SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_hwdb.h"
#include "epson_sim.h"
#include "simkit.h"

#ifndef BL_SOURCE_DIR
#define BL_SOURCE_DIR "."
#endif

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: bl-epson-sim [options] PORT        (PORT 0: ephemeral)\n"
	    "  --hwdb FILE              beamline file with the teach points (default sim.yaml)\n"
	    "  --control PATH           UNIX control socket for fault injection (see README)\n"
	    "  --password PW            control login password (default none)\n"
	    "  --monitor-password PW    read-only login password\n"
	    "  --terminator ESC         line terminator, escapes \\r \\n (default from hwdb)\n"
	    "  --time-scale X           simulated seconds per real second (default 1)\n"
	    "  --idle-timeout-ms N      drop an idle session (default 5000, 0 never)\n"
	    "  --request-timeout-ms N   answer an unterminated line with !Cmd,19 (default 2000)\n"
	    "  --grip-bit N / --sensor-bit N   gripper output / sensor input (default 8 / 10)\n"
	    "  --fault \"VERB ARGS\"      control verb run at start (repeatable), e.g. \"estop "
	    "1\"\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"hwdb", required_argument, 0, 'H'},
					     {"control", required_argument, 0, 'c'},
					     {"password", required_argument, 0, 'p'},
					     {"monitor-password", required_argument, 0, 'm'},
					     {"terminator", required_argument, 0, 't'},
					     {"time-scale", required_argument, 0, 's'},
					     {"idle-timeout-ms", required_argument, 0, 'i'},
					     {"request-timeout-ms", required_argument, 0, 'r'},
					     {"grip-bit", required_argument, 0, 'g'},
					     {"sensor-bit", required_argument, 0, 'S'},
					     {"fault", required_argument, 0, 'f'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *hwdb = BL_SOURCE_DIR "/hwdb/beamlines/sim.yaml";
	const char *faults[16];
	int nfaults = 0, c;
	const char *control = NULL;
	const char *password = NULL, *monitor = NULL, *term = NULL;
	double scale = 0;
	int idle = -1, request = -1, grip = -1, sensor = -1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H': hwdb = optarg; break;
		case 'c': control = optarg; break;
		case 'p': password = optarg; break;
		case 'm': monitor = optarg; break;
		case 't': term = optarg; break;
		case 's': scale = atof(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'r': request = atoi(optarg); break;
		case 'g': grip = atoi(optarg); break;
		case 'S': sensor = atoi(optarg); break;
		case 'f':
			if (nfaults < 16)
				faults[nfaults++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	int port = atoi(argv[optind]);

	struct bl_hwdb *db = NULL;
	static struct bl_hwdb_errors errs;
	if (bl_hwdb_load(hwdb, &db, &errs)) {
		for (size_t i = 0; i < errs.count && i < BL_HWDB_MAX_ERRORS; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return 1;
	}
	struct bl_epson_sim_config cfg;
	bl_epson_sim_defaults(&cfg, db);
	bl_hwdb_free(db);
	if (password)
		snprintf(cfg.password, sizeof(cfg.password), "%s", password);
	if (monitor)
		snprintf(cfg.monitor_password, sizeof(cfg.monitor_password), "%s", monitor);
	if (term && bl_epson_unescape(term, cfg.terminator, sizeof(cfg.terminator))) {
		fprintf(stderr, "bl-epson-sim: bad terminator \"%s\"\n", term);
		return 2;
	}
	if (scale > 0)
		cfg.time_scale = scale;
	if (idle >= 0)
		cfg.idle_timeout_ms = idle;
	if (request > 0)
		cfg.request_timeout_ms = request;
	if (grip >= 0)
		cfg.grip_out_bit = grip;
	if (sensor >= 0)
		cfg.grip_sensor_bit = sensor;

	struct bl_epson_sim *sim;
	int rc = bl_epson_sim_open(&sim, &cfg, port, control);
	if (rc) {
		fprintf(stderr, "bl-epson-sim: cannot listen: %s\n", strerror(-rc));
		return 1;
	}
	for (int i = 0; i < nfaults; i++) {
		char reply[512];
		bl_epson_sim_control(sim, faults[i], reply, sizeof(reply));
		if (strncmp(reply, "ok", 2)) {
			fprintf(stderr, "bl-epson-sim: --fault \"%s\": %s\n", faults[i], reply);
			bl_epson_sim_close(sim);
			return 2;
		}
	}
	printf("%d\n", bl_epson_sim_port(sim));
	fflush(stdout);
	bl_simkit_signals(&stop);
	while (!stop)
		bl_epson_sim_step(sim, 100);
	bl_epson_sim_close(sim);
	return 0;
}
