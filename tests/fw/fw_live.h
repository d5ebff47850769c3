/* fw_live.h: fixture of the live controller tests: keys, inventory, beamloop-fw as a child
 * process on fixed endpoints, a CurveZMQ client and JSON helpers. */
#ifndef BL_TEST_FW_LIVE_H
#define BL_TEST_FW_LIVE_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "fw_site.h"
#include "proto/fw_client.h"

struct live {
	struct bl_fw_site s; /* keys, allow-list (the agent), inventory, journal, fw.log */
	const char *cmd_ep, *evt_ep;
	pid_t fw_pid;
};

static inline void live_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A temporary folder with the controller's and the agent's keys, the allow-list (the agent)
 * and an inventory of puck 1, slots 1..16 with the simulator's labels. */
static inline void live_setup(struct live *l, const char *name, const char *cmd_ep,
			      const char *evt_ep)
{
	char err[256], prefix[48], hwdb[512];
	snprintf(prefix, sizeof(prefix), "bl-%s", name);
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", BL_SOURCE_DIR);
	l->cmd_ep = cmd_ep;
	l->evt_ep = evt_ep;
	if (bl_fw_site_create(&l->s, prefix, hwdb, 1, 16, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

/* Starts beamloop-fw (plus `extra` options, NULL-terminated, may be NULL) and waits for its
 * ready line; its log goes to DIR/fw.log. */
static inline int live_fw_start(struct live *l, const char *const *extra)
{
	const char *argv[40] = {"--cmd", l->cmd_ep,	 "--evt", l->evt_ep,  "--no-rt", "--frames",
				"4",	 "--count-time", "0.05",  "--period", "0.1"};
	int n = 11;
	for (int i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	char ready[512];
	l->fw_pid = bl_fw_site_start(&l->s, BL_BINARY_DIR "/firmware/beamloop-fw", argv, ready,
				     sizeof(ready));
	if (l->fw_pid < 0) {
		fprintf(stderr, "beamloop-fw did not start: '%s' (see %s)\n", ready, l->s.log);
		l->fw_pid = 0;
		return -EIO;
	}
	return 0;
}

static inline void live_fw_stop(struct live *l, int sig)
{
	bl_fw_site_stop(l->fw_pid, sig);
	l->fw_pid = 0;
}

static inline struct bl_fw_client *live_client(const struct live *l, const char *pub,
					       const char *sec)
{
	struct bl_fw_client *c = NULL;
	struct bl_fw_client_config cc = {.endpoint = l->cmd_ep,
					 .event_endpoint = l->evt_ep,
					 .server_key = l->s.fw_pub,
					 .public_key = pub,
					 .secret_key = sec};
	if (bl_fw_client_open(&c, &cc))
		return NULL;
	return c;
}

static inline int live_call(struct bl_fw_client *c, const char *cmd, const char *args, cJSON **out)
{
	cJSON *r = NULL;
	int rc = bl_fw_client_call_json(c, cmd, args, 5000, &r);
	if (out)
		*out = r;
	else
		cJSON_Delete(r);
	return rc;
}

static inline const char *live_str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

static inline double live_num(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(x) ? x->valuedouble : -1e300;
}

/* Removes the folder when every check passed (kept for the logs otherwise, or when
 * BL_KEEP_LOGS is set). */
static inline int live_cleanup(const struct live *l)
{
	if (getenv("BL_KEEP_LOGS") || check_failures) {
		fprintf(stderr, "logs kept in %s\n", l->s.dir);
		return 0;
	}
	return bl_fw_site_remove(&l->s) ? 1 : 0;
}

#endif
