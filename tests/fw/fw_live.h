/* fw_live.h: fixture of the live controller tests: keys, inventory, beamloop-fw as a child
 * process on fixed endpoints, a CurveZMQ client and JSON helpers. */
#ifndef BL_TEST_FW_LIVE_H
#define BL_TEST_FW_LIVE_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "barcode_proto.h"
#include "proto/fw_client.h"
#include "proto/fw_keys.h"

struct live {
	char dir[64];
	char hwdb[512], inv[600], journal[600], key[600], allow[600];
	const char *cmd_ep, *evt_ep;
	pid_t fw_pid;
	char fw_pub[BL_FW_KEY_Z85_LEN + 1];
	char ag_pub[BL_FW_KEY_Z85_LEN + 1], ag_sec[BL_FW_KEY_Z85_LEN + 1];
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
	snprintf(l->dir, sizeof(l->dir), "/tmp/bl-%s-XXXXXX", name);
	if (!mkdtemp(l->dir))
		exit(1);
	l->cmd_ep = cmd_ep;
	l->evt_ep = evt_ep;
	snprintf(l->hwdb, sizeof(l->hwdb), "%s/hwdb/beamlines/sim.yaml", BL_SOURCE_DIR);
	snprintf(l->inv, sizeof(l->inv), "%s/inventory.json", l->dir);
	snprintf(l->journal, sizeof(l->journal), "%s/journal.sqlite", l->dir);
	snprintf(l->key, sizeof(l->key), "%s/fw", l->dir);
	snprintf(l->allow, sizeof(l->allow), "%s/allow", l->dir);
	char err[256], p[620];
	CHECK_EQ_INT(bl_fw_keys_generate(l->key, l->fw_pub, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/agent", l->dir);
	CHECK_EQ_INT(bl_fw_keys_generate(p, l->ag_pub, err, sizeof(err)), 0);
	CHECK_EQ_INT(bl_fw_keys_load(p, NULL, l->ag_sec, err, sizeof(err)), 0);
	FILE *f = fopen(l->allow, "w");
	fprintf(f, "# the agent\n%s\n", l->ag_pub);
	fclose(f);
	f = fopen(l->inv, "w");
	fprintf(f, "[\n");
	for (int s = 1; s <= 16; s++) {
		char code[16];
		bl_bc_sim_code(1, s, code);
		fprintf(f, "  {\"puck\": 1, \"slot\": %d, \"barcode\": \"%s\"}%s\n", s, code,
			s < 16 ? "," : "");
	}
	fprintf(f, "]\n");
	fclose(f);
}

/* Starts beamloop-fw (plus `extra` options, NULL-terminated, may be NULL) and waits for its
 * ready line; its log goes to DIR/fw.log. */
static inline int live_fw_start(struct live *l, const char *const *extra)
{
	int p[2];
	if (pipe(p))
		return -errno;
	l->fw_pid = fork();
	if (l->fw_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		dup2(p[1], 1);
		close(p[0]);
		char log[620];
		snprintf(log, sizeof(log), "%s/fw.log", l->dir);
		FILE *lf = fopen(log, "a");
		if (lf)
			dup2(fileno(lf), 2);
		const char *argv[48] = {BL_BINARY_DIR "/firmware/beamloop-fw",
					"--hwdb",
					l->hwdb,
					"--inventory",
					l->inv,
					"--journal",
					l->journal,
					"--key",
					l->key,
					"--allow",
					l->allow,
					"--cmd",
					l->cmd_ep,
					"--evt",
					l->evt_ep,
					"--no-rt",
					"--frames",
					"4",
					"--count-time",
					"0.05",
					"--period",
					"0.1"};
		int n = 22;
		for (int i = 0; extra && extra[i] && n < 47; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char line[512] = "";
	bool ok = f && fgets(line, sizeof(line), f) && !strncmp(line, "ready ", 6);
	if (f)
		fclose(f);
	if (!ok)
		fprintf(stderr, "beamloop-fw did not start: '%s' (see %s/fw.log)\n", line, l->dir);
	return ok ? 0 : -EIO;
}

static inline void live_fw_stop(struct live *l, int sig)
{
	if (l->fw_pid > 0) {
		kill(l->fw_pid, sig);
		waitpid(l->fw_pid, NULL, 0);
	}
	l->fw_pid = 0;
}

static inline struct bl_fw_client *live_client(const struct live *l, const char *pub,
					       const char *sec)
{
	struct bl_fw_client *c = NULL;
	struct bl_fw_client_config cc = {.endpoint = l->cmd_ep,
					 .event_endpoint = l->evt_ep,
					 .server_key = l->fw_pub,
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
	if (getenv("BL_KEEP_LOGS")) {
		fprintf(stderr, "logs kept in %s\n", l->dir);
		return 0;
	}
	char rm[600];
	snprintf(rm, sizeof(rm), "rm -rf %s", l->dir);
	if (!check_failures && system(rm) != 0)
		return 1;
	return 0;
}

#endif
